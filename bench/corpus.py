"""Synthetic heritage records for the search benchmark: deterministic, realistic in shape, fast to insert.

``generate(bind, n, seed)`` inserts *n* records with SQLAlchemy Core bulk inserts into a migrated archive
database whose vocabularies are loaded (``load_vocabularies(include_communes=True)``: records cite
communes of both systems). ``QUERIES`` is the fixed query set of the benchmark.

How the text is made, so that its word distribution looks like a real collection's:

- A record documents one *festival type*: one of the demo's 57 practices (Lồng Tồng of the Tày and
  Nùng, Gầu Tào of the Hmong...), one of ~70 generic practices any group has (prayer for a good harvest,
  new rice celebration, brocade weaving, lullabies...) or, for the long tail, a local practice with a
  generated name. Types are drawn with Zipf-like weights, so famous practices are documented many
  times in many places and years, as in a real archive, and rare ones a few times.
- Titles follow the demo's patterns ("Lễ hội Lồng Tồng của người Tày ở Ba Bể", "Hát Then ...",
  "Nghệ thuật Xòe Thái ...") combined with the record's ethnic groups, places and sometimes a year.
- Summaries and descriptions are written by a word-bigram chain trained on the demo's own summaries and
  descriptions (Vietnamese and English separately) in which the demo record's ethnic groups, places and
  practice name were replaced by slots; the slots are filled with the generated record's values. Word
  frequencies therefore follow the demo's real text (Zipfian: "và", "lễ", "người", "the", "festival"
  in most records; "chapi", "zèng" in few), and the sentences read like the demo's.
- Festival-domain sentences (offerings, instruments, games, materials), drawn with Zipf weights from
  curated lexicons, and a long tail of proper nouns (villages, communes, artisans, local names) are mixed
  in, so that the vocabulary keeps growing with the collection as a real one does.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "archive" / "demo" / "records.json"

#: Public identifiers of synthetic records and media contain "-", which the minting alphabet never
#: produces, so they can never collide with a minted identifier.
RECORD_ID_PREFIX = "r-syn-"
MEDIA_ID_PREFIX = "m-syn-"


def _pairs(text: str) -> list[tuple[str, str]]:
    """'vi = en; vi = en; ...' as (vi, en) pairs."""
    out = []
    for item in " ".join(text.split()).split(";"):
        vi, en = item.split("=")
        out.append((vi.strip(), en.strip()))
    return out


def _names(text: str) -> list[str]:
    """'a, b, c' as a list."""
    return [name.strip() for name in " ".join(text.split()).split(",")]


# --------------------------------------------------------------------------------------------------
# Curated festival-domain vocabulary (Vietnamese, English)
# --------------------------------------------------------------------------------------------------

#: Generic practices any community may have: (category, vi prefix, vi name, en title, en name).
GENERIC_TYPES: list[tuple[str, str, str, str, str]] = [
    ("ritual", "Lễ", "cầu mùa", "Prayer for a good harvest", "harvest prayer"),
    ("festival", "Lễ", "mừng lúa mới", "New rice celebration", "new rice"),
    ("ritual", "Lễ", "cúng rừng", "Offering to the forest spirits", "forest offering"),
    ("ritual", "Lễ", "cúng bản", "Village offering ceremony", "village offering"),
    ("ritual", "Lễ", "cúng thần núi", "Offering to the mountain spirit", "mountain spirit offering"),
    ("ritual", "Lễ", "cầu mưa", "Rain-calling ceremony", "rain calling"),
    ("festival", "Tết", "cơm mới", "New rice feast", "new rice feast"),
    ("ritual", "Lễ", "cúng bến nước", "Offering at the water source", "water source offering"),
    ("ritual", "Lễ", "thổi tai", "Ear-blowing ceremony for newborns", "ear-blowing"),
    ("ritual", "Lễ", "đặt tên cho trẻ", "Naming ceremony for children", "naming ceremony"),
    ("custom", "Phong tục", "cưới hỏi", "Wedding customs", "wedding"),
    ("ritual", "Tang lễ", "truyền thống", "Traditional funeral rites", "funeral rites"),
    ("festival", "Lễ", "mừng nhà mới", "House-warming ceremony", "house-warming"),
    ("ritual", "Lễ", "cúng tổ tiên", "Ancestor offering", "ancestor offering"),
    ("ritual", "Lễ", "trưởng thành", "Coming-of-age rite", "coming of age"),
    ("ritual", "Lễ", "gọi hồn lúa", "Calling back the rice soul", "rice soul"),
    ("ritual", "Lễ", "cúng thần đất", "Offering to the earth god", "earth god offering"),
    ("ritual", "Lễ", "mừng thọ", "Longevity celebration for elders", "longevity celebration"),
    ("festival", "Hội", "đua thuyền", "Boat race festival", "boat race"),
    ("festival", "Hội", "chọi trâu", "Buffalo fighting festival", "buffalo fighting"),
    ("festival", "Hội", "ném còn", "Còn-ball throwing festival", "còn throwing"),
    ("festival", "Hội", "xuân", "Spring festival", "spring festival"),
    ("festival", "Lễ hội", "xuống đồng", "Going down to the fields festival", "going down to the fields"),
    ("festival", "Lễ hội", "cầu an", "Festival of prayers for peace", "peace prayers"),
    ("custom", "Chợ", "phiên vùng cao", "Highland market day", "market day"),
    ("custom", "Tục", "ở rể", "Living with the bride's family", "bride service"),
    ("custom", "Tục", "kéo vợ", "Bride abduction custom", "bride abduction"),
    ("custom", "Ẩm thực", "truyền thống", "Traditional cuisine", "cuisine"),
    ("custom", "Trang phục", "truyền thống", "Traditional dress", "dress"),
    ("custom", "Kiến trúc", "nhà sàn", "Stilt-house architecture", "stilt houses"),
    ("performing_art", "Hát", "ru", "Lullabies", "lullabies"),
    ("performing_art", "Hát", "đối đáp nam nữ", "Antiphonal love songs", "antiphonal songs"),
    ("performing_art", "Hát", "mừng nhà mới", "Songs for a new house", "house songs"),
    ("performing_art", "Múa", "sạp", "Bamboo dance", "bamboo dance"),
    ("performing_art", "Múa", "chuông", "Bell dance", "bell dance"),
    ("performing_art", "Múa", "khèn", "Khèn dance", "khèn dance"),
    ("performing_art", "Nhạc", "cồng chiêng", "Gong music", "gong music"),
    ("performing_art", "Nghệ thuật", "thổi sáo", "Flute music", "flute music"),
    ("performing_art", "Dân ca", "lao động", "Work songs", "work songs"),
    ("performing_art", "Trò diễn", "dân gian", "Folk performances", "folk performances"),
    ("oral_tradition", "Truyện cổ", "dân gian", "Folk tales", "folk tales"),
    ("oral_tradition", "Truyện thơ", "dân gian", "Verse tales", "verse tales"),
    ("oral_tradition", "Sử thi", "anh hùng", "Heroic epics", "epics"),
    ("oral_tradition", "Tục ngữ", "ca dao", "Proverbs and sayings", "proverbs"),
    ("oral_tradition", "Lời", "khấn cúng", "Ritual invocations", "invocations"),
    ("oral_tradition", "Câu đố", "dân gian", "Folk riddles", "riddles"),
    ("craft", "Nghề", "dệt thổ cẩm", "Brocade weaving", "brocade weaving"),
    ("craft", "Nghề", "đan lát", "Basketry", "basketry"),
    ("craft", "Nghề", "rèn", "Blacksmithing", "blacksmithing"),
    ("craft", "Nghề", "làm giấy bản", "Hand-made paper", "paper-making"),
    ("craft", "Nghề", "chạm bạc", "Silversmithing", "silversmithing"),
    ("craft", "Nghề", "làm gốm", "Pottery", "pottery"),
    ("craft", "Nghề", "nhuộm chàm", "Indigo dyeing", "indigo dyeing"),
    ("craft", "Nghề", "thêu", "Embroidery", "embroidery"),
    ("craft", "Nghề", "làm khèn", "Khèn making", "khèn making"),
    ("craft", "Nghề", "làm trống", "Drum making", "drum making"),
    ("craft", "Nghề", "tạc tượng gỗ", "Wood carving", "wood carving"),
    ("craft", "Nghề", "nấu rượu men lá", "Leaf-yeast rice wine", "rice wine"),
    ("traditional_knowledge", "Tri thức", "thuốc nam", "Herbal medicine knowledge", "herbal medicine"),
    (
        "traditional_knowledge",
        "Tri thức",
        "canh tác ruộng bậc thang",
        "Terrace farming knowledge",
        "terraces",
    ),
    ("traditional_knowledge", "Tri thức", "lịch nông nghiệp", "Agricultural calendar", "farming calendar"),
    ("traditional_knowledge", "Tri thức", "giữ rừng", "Forest keeping knowledge", "forest keeping"),
    ("traditional_knowledge", "Tri thức", "chọn giống lúa", "Rice seed selection", "seed selection"),
    ("traditional_knowledge", "Tri thức", "dự báo thời tiết", "Weather lore", "weather lore"),
    ("traditional_knowledge", "Tri thức", "săn bắt hái lượm", "Hunting and gathering knowledge", "foraging"),
    ("traditional_knowledge", "Tri thức", "đánh bắt cá", "Fishing knowledge", "fishing"),
    ("traditional_knowledge", "Chữ viết", "cổ", "Old script", "old script"),
]

#: Prefixes of the generated (long-tail) practice names: (category, vi prefix, en suffix).
LOCAL_PREFIXES = [
    ("festival", "Lễ hội", "festival"),
    ("festival", "Tết", "New Year"),
    ("ritual", "Lễ", "ceremony"),
    ("ritual", "Lễ cúng", "offering"),
    ("performing_art", "Hát", "singing"),
    ("performing_art", "Điệu múa", "dance"),
    ("oral_tradition", "Truyện", "tale"),
    ("custom", "Tục", "custom"),
]

OFFERINGS = _pairs(
    """
    gà = chicken; lợn = pig; xôi ngũ sắc = five-colour sticky rice; rượu = rice wine; trầu cau = betel
    and areca; bánh chưng = square rice cakes; hương = incense; vàng mã = votive paper; trâu = buffalo;
    cá nướng = grilled fish; bánh dày = round rice cakes; rượu cần = jar wine; hoa quả = fruit; gạo =
    rice; muối = salt; trứng = eggs; vịt = duck; dê = goat; bánh gio = ash cakes; thịt khô = dried meat;
    cơm lam = bamboo-tube rice; nến sáp ong = beeswax candles; vải trắng = white cloth; bạc trắng =
    silver; bánh giầy = glutinous cakes
    """
)
INSTRUMENTS = _pairs(
    """
    cồng chiêng = gongs; trống = drums; khèn = khèn mouth organ; đàn tính = tính lute; sáo = flute; nhị
    = two-string fiddle; chiêng = flat gongs; chuông nhạc = bells; đàn môi = jaw harp; tù và = horn; kèn
    pí lè = pí lè oboe; đàn t'rưng = t'rưng xylophone; đàn đá = lithophone; sáo mèo = Hmong flute; trống
    đồng = bronze drum; kèn lá = leaf whistle; đàn klông pút = klông pút; đàn bầu = monochord; xóc nhạc
    = rattle; mõ = wooden clapper
    """
)
GAMES = _pairs(
    """
    ném còn = còn-ball throwing; kéo co = tug-of-war; đánh quay = top spinning; đẩy gậy = stick pushing;
    bắn nỏ = crossbow shooting; đánh yến = shuttlecock; đi cà kheo = stilt walking; đua ngựa = horse
    racing; đánh pao = pao throwing; múa sư tử = lion dance; chọi gà = cockfighting; đấu vật =
    wrestling; leo cột = pole climbing; nhảy sạp = bamboo dancing; đánh đu = swinging; ném pao = pao
    ball; giã gạo = rice pounding
    """
)
MATERIALS = _pairs(
    """
    sợi lanh = hemp thread; sợi bông = cotton thread; chàm = indigo; sáp ong = beeswax; tre = bamboo;
    mây = rattan; gỗ = wood; bạc = silver; đất sét = clay; lá cây rừng = forest leaves; vỏ cây = bark;
    sừng trâu = buffalo horn; giấy dó = dó paper; tơ tằm = silk; đồng = bronze; lá cọ = palm leaves
    """
)
PURPOSES = [
    ("cầu mưa thuận gió hòa", "to pray for timely rain and wind"),
    ("cầu mùa màng bội thu", "to pray for a bountiful harvest"),
    ("tạ ơn thần linh", "to thank the spirits"),
    ("cầu sức khỏe cho cộng đồng", "to pray for the health of the community"),
    ("tưởng nhớ tổ tiên", "to honour the ancestors"),
    ("xua đuổi tà ma", "to drive away evil spirits"),
    ("cầu bình an cho bản làng", "to pray for the peace of the village"),
    ("mừng năm mới", "to welcome the new year"),
    ("gắn kết cộng đồng", "to bring the community together"),
    ("trao truyền tri thức cho thế hệ trẻ", "to pass knowledge to the young"),
    ("cầu duyên cho nam nữ", "to pray for love and marriage"),
    ("mừng vụ mùa mới", "to celebrate the new season"),
]
MONTHS_VI = ["tháng Giêng", "tháng Hai", "tháng Ba", "tháng Tư", "tháng Năm", "tháng Sáu", "tháng Bảy",
             "tháng Tám", "tháng Chín", "tháng Mười", "tháng Mười một", "tháng Chạp"]  # fmt: skip
MONTHS_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth"]  # fmt: skip

#: Subjects beyond the demo's, as (vi, en).
EXTRA_SUBJECTS = _pairs(
    """
    lễ hội mùa xuân = spring festivals; trang phục truyền thống = traditional dress; ẩm thực truyền
    thống = traditional food; nghề dệt = weaving; nghề rèn = blacksmithing; đan lát = basketry; hát ru =
    lullabies; truyện cổ = folk tales; tín ngưỡng thờ thần = spirit cults; thầy cúng = ritual masters;
    then = Then ritual; khèn = khèn; nhà rông = communal house; nhà sàn = stilt houses; ruộng bậc thang
    = rice terraces; rượu cần = jar wine; cúng rừng = forest rites; cầu mưa = rain rites; lễ trưởng
    thành = coming-of-age rites; hôn nhân = marriage; tang ma = funerals; chữ Nôm Tày = Nôm Tày script;
    chữ Thái cổ = old Thái script; Phật giáo = Buddhism; Hồi giáo = Islam; y phục phụ nữ = women's
    dress; trò chơi trẻ em = children's games; đua thuyền = boat racing; bảo tồn di sản = heritage
    safeguarding; du lịch cộng đồng = community tourism; nghệ nhân = artisans; sân khấu dân gian = folk
    theatre; bạc = silverwork; làm giấy = paper-making; nhuộm chàm = indigo dyeing; lịch pháp =
    calendars; thuốc nam = herbal medicine; săn bắn = hunting; đánh cá = fishing; chợ tình = love
    market; lễ cấp sắc = initiation rites; thờ Mẫu = Mother Goddess worship; cúng bản = village rites;
    hát giao duyên = courtship songs; điệu múa = dances; mặt nạ = masks; tượng gỗ = wooden statues; cây
    nêu = ritual pole; trống đồng = bronze drums; vòng đời = life cycle
    """
)

#: Collections beyond the demo's five, as (slug, vi, en).
EXTRA_COLLECTIONS = [
    ("fieldwork-1960s-1980s", "Tư liệu điền dã 1960–1980", "Fieldwork 1960–1980"),
    ("community-recordings", "Ghi âm của cộng đồng", "Community recordings"),
    ("provincial-museum-deposit", "Tư liệu gửi từ bảo tàng tỉnh", "Provincial museum deposit"),
    ("women-knowledge", "Tri thức của phụ nữ", "Women's knowledge"),
    ("ritual-masters-archive", "Lưu trữ của các thầy cúng", "Ritual masters' archive"),
    ("scripts-and-manuscripts", "Chữ viết và sách cổ", "Scripts and manuscripts"),
    ("unesco-inventory-files", "Hồ sơ đề cử UNESCO", "UNESCO nomination files"),
]
DEMO_COLLECTIONS = {
    "northern-mountain-festivals": ("Lễ hội vùng núi phía Bắc", "Festivals of the northern mountains"),
    "central-highlands-gong-culture": (
        "Văn hóa cồng chiêng Tây Nguyên",
        "Gong culture of the Central Highlands",
    ),
    "southern-khmer-cham-heritage": (
        "Di sản Khmer và Chăm ở phía Nam",
        "Khmer and Cham heritage of the South",
    ),
    "songs-and-oral-traditions": ("Dân ca và văn học truyền miệng", "Songs and oral traditions"),
    "crafts-and-knowledge": ("Nghề thủ công và tri thức dân gian", "Crafts and folk knowledge"),
}

#: Minority-language title tags, by ethnic group.
GROUP_LANGS = {
    "tay": "tyz", "nung": "nut", "hmong": "hnj", "e-de": "rad", "gia-rai": "jra", "ba-na": "bdq",
    "xo-dang": "sed", "cham": "cjm", "thai": "blt", "muong": "mtq", "dao": "ium", "kho-mu": "kjm",
    "mnong": "mnw", "co-ho": "kpm", "co-tu": "kuf", "ha-nhi": "hni", "lao": "lo", "san-diu": "cdi",
    "san-chay": "cbn",
}  # fmt: skip

SURNAMES = _names(
    """
    Nông, Hoàng, Lường, Lò, Giàng, Sùng, Vừ, Triệu, Bàn, Đinh, Ksor, Rơ Châm, Siu, Nay, Thạch, Sơn,
    Danh, Lâm, Hà, Vi, Lục, Ma, Lý, Thào, Hầu, Cầm, Quàng, Bạc, Y, H', Rah Lan, Kpă, Niê, Mlô, Đàng,
    Quảng, Chamaléa, Bùi
    """
)
GIVEN = _names(
    """
    Văn, Thị, A, Seo, Mí, Páo, Chứ, Sử, Khánh, Pẻn, Blưm, Blin, Thìn, Mai, Súa, Dính, Tếnh, Lả, Mỷ, Pằn,
    Nhất, Chiến, Hùng, Lan, Hoa, Minh, Thắm, Tăm, Điêng, Kroa, Hlinh, Ka, Thơ, Sáng, Dũng, Xuân, Tuyết,
    Phượng
    """
)
VILLAGE_WORDS = ["bản", "làng", "buôn", "plei", "phum", "sóc", "thôn", "bon", "kon"]

#: Syllables of generated local names (minority-language place and practice names in Vietnamese script).
LOCAL_SYLLABLES = (
    "nà hin phiêng khuổi bó pác nặm mường lò púng phai tằm slam kéo pù lùng cốc nả thẳm ka đăk plông "
    "mơ rông h'ơ ngao kdang blang h'drai kteh mlang yang đrông pah chư prông ia krông ea súp m'gar "
    "phước pa tra mah lui lũng thàng hồ sán chải xìn ván sủng pả vi lềnh sà phìn cán chu chản tả van "
    "hoàng su tủa séo lủ chẩn mé lao xả bung dề nhiu pờ tung chăn nưa nậm khòa ngòi tạo kon tum pleo "
    "ngheo ayun dliê kơ nia ya ma nrung bri tơ đriêng lâm ly ka đô ninh hòa tầm ngân mỹ đức phum chrây "
    "sóc kha xoài riêng thlok ta prek kandal trapeang kompong ro"
).split()

#: Captions of media, as short patterns: {F} practice name, {G} group, {P} place, {V} village,
#: {N} person, {O} offering, {I} instrument, {J} game, {M} material.
CAPTION_PATTERNS = [
    ("Toàn cảnh {F} ở {P}", "General view of the {F} at {P}"),
    ("Thầy cúng làm lễ trong {F}", "The ritual master officiating at the {F}"),
    ("Phụ nữ {G} trong trang phục truyền thống", "{G} women in traditional dress"),
    ("Mâm lễ vật gồm {O}", "The offering tray with {O}"),
    ("Nghệ nhân biểu diễn {I}", "An artisan playing the {I}"),
    ("Trò {J} trong phần hội", "{J} during the festivities"),
    ("Phỏng vấn nghệ nhân {N}", "Interview with the artisan {N}"),
    ("Bài hát trong {F} do {N} trình bày", "A song of the {F} performed by {N}"),
    ("Đoàn người rước lễ qua {V}", "The procession passing through {V}"),
    ("Cận cảnh hoa văn trên vải {M}", "Close-up of the patterns on {M} cloth"),
    ("Người {G} ở {V} chuẩn bị cho {F}", "{G} villagers of {V} preparing for the {F}"),
    ("Ghi âm lời khấn trong {F}", "Recording of the invocation at the {F}"),
]

# --------------------------------------------------------------------------------------------------
# Text model
# --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{[A-Z]\}|\w+(?:['’\-]\w+)*|[^\w\s]")
_END = {".", "!", "?"}
_NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "”", "’"}
_NO_SPACE_AFTER = {"(", "“", "‘"}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def detokenize(tokens: list[str]) -> str:
    out: list[str] = []
    cap = True
    for tok in tokens:
        if cap and tok[:1].isalpha():
            tok = _cap(tok)
            cap = False
        if out and tok not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(tok)
        if tok in _END:
            cap = True
    return "".join(out)


class Chain:
    """A word-bigram chain over texts with slots ({G} group, {P} place, {F} practice name)."""

    START = "<s>"

    def __init__(self, texts: list[str]):
        successors: dict[str, list[str]] = {}
        for text in texts:
            prev = self.START
            for tok in _tokens(text):
                successors.setdefault(prev, []).append(tok)
                prev = self.START if tok in _END else tok
        self.successors = successors

    def sentence(
        self,
        rng: random.Random,
        topic: frozenset[str] = frozenset(),
        allowed: frozenset[str] = frozenset(),
        tail: Callable[[], str] | None = None,
        max_tokens: int = 60,
    ) -> list[str]:
        """One sentence of tokens (slots unfilled), ending with a full stop. A *topic* word (a name
        specific to one demo practice) that is not *allowed* for this record is written as *tail()*
        instead, so that "Katê" or "chapi" stay in the records they belong to."""
        out: list[str] = []
        state = self.START
        succ = self.successors
        rand = rng.random
        while True:
            options = succ.get(state) or succ[self.START]
            tok = options[int(rand() * len(options))]
            if tok in _END:
                out.append(".")
                return out
            low = tok.lower()
            if tail is not None and low in topic and low not in allowed:
                word = tail()
                out.append(_cap(word) if tok[:1].isupper() else word)
            else:
                out.append(tok)
            if len(out) >= max_tokens:
                out.append(".")
                return out
            state = tok


class Zipf:
    """Draw items with weight 1 / rank**s (rank 1 = first item)."""

    def __init__(self, items: list, s: float = 1.0):
        self.items = items
        total, cum = 0.0, []
        for rank in range(1, len(items) + 1):
            total += 1.0 / rank**s
            cum.append(total)
        self.cum, self.total = cum, total

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_left(self.cum, rng.random() * self.total)]


class Weighted:
    """Draw items with the given weights."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_left(self.cum, rng.random() * self.total)]


# --------------------------------------------------------------------------------------------------
# Demo-derived material
# --------------------------------------------------------------------------------------------------

_GENERIC_TITLE_WORDS = {
    "lễ", "hội", "tết", "hát", "nghệ", "thuật", "nghề", "thực", "hành", "truyện", "thơ", "sử", "thi",
    "nhạc", "đàn", "chợ", "không", "gian", "văn", "hóa", "tri", "thức", "trống", "đồng", "trong", "nghi",
}  # fmt: skip


@dataclass
class PracticeType:
    """What a record documents: a practice with its names and the groups that hold it."""

    category: str
    stem_vi: str  # e.g. "Lễ hội Lồng Tồng"
    name_vi: str  # slot value {F} in Vietnamese text, e.g. "Lồng Tồng"
    stem_en: str  # e.g. "Lồng Tồng Festival"
    name_en: str
    groups: tuple[str, ...] = ()  # empty: any group
    alternatives: tuple[tuple[str, str], ...] = ()  # (lang, value)
    subjects: tuple[tuple[str, str], ...] = ()  # (vi, en)
    collection: str | None = None
    group_in_title: bool = False
    demo_index: int | None = None  # the demo record it comes from


def _strip_suffix(title: str, markers: tuple[str, ...]) -> str:
    cut = len(title)
    for marker in markers:
        pos = title.find(marker)
        if 0 < pos < cut:
            cut = pos
    return title[:cut].strip()


def _demo_types(records: list[dict], group_names: dict[str, set[str]]) -> list[PracticeType]:
    types = []
    for index, item in enumerate(records):
        title_vi = item["title"]["vi"]
        stem_vi = _strip_suffix(title_vi, (" của ", " ở ", " (", " – "))
        words = stem_vi.split()
        i = 0
        while i < len(words) - 1 and words[i].lower() in _GENERIC_TITLE_WORDS:
            i += 1
        name_vi = " ".join(words[i:])
        title_en = item["title"].get("en") or title_vi
        stem_en = _strip_suffix(title_en, (" of the ", " of ", " (", ":"))
        own_names = set().union(*(group_names.get(g, set()) for g in item["ethnic_groups"]))
        types.append(
            PracticeType(
                category=item["category"],
                stem_vi=stem_vi,
                name_vi=name_vi,
                stem_en=stem_en,
                name_en=name_vi if name_vi in title_en else stem_en,
                groups=tuple(item["ethnic_groups"]),
                alternatives=tuple(
                    (a["lang"], a["value"])
                    for a in item.get("alternative_titles") or []
                    if a["lang"] not in ("km", "zh-Hant")
                ),
                subjects=tuple((s["vi"], s["en"]) for s in item.get("subjects") or []),
                collection=item.get("collection"),
                group_in_title=any(n in stem_vi for n in own_names),
                demo_index=index,
            )
        )
    return types


def _slotted_texts(records: list[dict], group_names: dict[str, set[str]], lang: str) -> list[list[str]]:
    """For each demo record, its summary, description and captions in *lang*, with its own groups,
    places and practice name replaced by slots."""
    per_record = []
    for item in records:
        texts: list[str] = []
        per_record.append(texts)
        replacements: list[tuple[str, str]] = []
        for slug in item["ethnic_groups"]:
            for name in group_names.get(slug, ()):
                replacements.append((name, "{G}"))
        for place in item.get("places") or []:
            for key in ("district", "province"):
                if place.get(key):
                    replacements.append((place[key], "{P}"))
        stem = _strip_suffix(item["title"]["vi"], (" của ", " ở ", " (", " – "))
        words = stem.split()
        i = 0
        while i < len(words) - 1 and words[i].lower() in _GENERIC_TITLE_WORDS:
            i += 1
        name = " ".join(words[i:])
        if len(name) > 3 and name[:1].isupper():
            replacements.append((name, "{F}"))
        replacements.sort(key=lambda r: -len(r[0]))
        pattern = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(r[0]) for r in replacements) + r")(?!\w)")
            if replacements
            else None
        )
        lookup = dict(replacements)
        values = [(item.get("summary") or {}).get(lang), (item.get("description") or {}).get(lang)]
        values += [(m.get("caption") or {}).get(lang) for m in item.get("media") or []]
        for value in values:
            if not value:
                continue
            if pattern is not None:
                value = pattern.sub(lambda m, lookup=lookup: lookup[m.group(1)], value)
            texts.append(value if value.rstrip()[-1:] in _END else value + ".")
    return per_record


def _topic_words(per_record: list[list[str]], types: list[PracticeType]) -> tuple[frozenset, list[frozenset]]:
    """Names specific to one or two demo records (capitalised inside a sentence, or part of a practice's
    name) -- all of them, and those of each demo record."""
    own: list[set[str]] = []
    capitalised: set[str] = set()
    for texts in per_record:
        words: set[str] = set()
        for text in texts:
            after_end = True
            for tok in _tokens(text):
                if tok[:1].isalpha():
                    words.add(tok.lower())
                    if tok[:1].isupper() and not after_end:
                        capitalised.add(tok.lower())
                after_end = tok in _END
        own.append(words)
    names: set[str] = set()
    for t in types:
        names.update(w.lower() for w in _tokens(t.name_vi) if w[:1].isalpha())
        for _, value in t.alternatives:
            names.update(w.lower() for w in _tokens(value) if w[:1].isalpha())
    df = Counter(w for words in own for w in words)
    topic = frozenset(w for w, c in df.items() if c <= 2 and (w in capitalised or w in names))
    return topic, [frozenset(words & topic) for words in own]


#: Minority-language words written in Vietnamese or Latin script (Ê Đê, Gia Rai, Ba Na, Tày, Hmong...
#: orthographies): the long tail of a real collection's vocabulary (native terms, village and person
#: names), generated from onsets, vowels and codas.
_ONSETS = (
    "b bl br ch d đ dl dr g gl h h' hl hr k kl kr kp kd kt l m m' mn mr n n' ng nh p pl pr r s t th tr v x y"
).split()
_NUCLEI = "a á à ả ạ ă ắ ằ â ấ ầ e é è ê ế ề i í ì o ó ò ô ố ồ ơ ớ ờ u ú ù ư ứ ừ ia iê ua uô ươ".split()
_CODAS = ["", "", "", "n", "ng", "m", "p", "t", "k", "h", "y", "i", "ch", "nh", "l", "r", "ng", "n"]


def _minority_word(rng: random.Random) -> str:
    """'krông', 'h'mai', 'dliê', 'mơrang'..."""
    word = rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
    if rng.random() < 0.3:  # a light first syllable: 'mơ-', 'ka-', 'pơ-'
        word = rng.choice(("m", "k", "p", "r", "t", "b", "s", "l")) + rng.choice("aơiuư") + word.lstrip("'")
    return word


# --------------------------------------------------------------------------------------------------
# Vocabulary snapshot from the database
# --------------------------------------------------------------------------------------------------


@dataclass
class Group:
    id: int
    slug: str
    name_vi: str
    name_en: str
    names: set[str]
    subgroups: list[str]
    province_codes: list[str]
    population: int


@dataclass
class PlaceRow:
    id: int
    code: str
    system: str
    level: str
    name: str
    parent_id: int | None
    current_province_id: int | None


@dataclass
class Snapshot:
    groups: dict[str, Group]
    places: dict[int, PlaceRow]
    by_code: dict[str, PlaceRow]
    children: dict[int, list[int]]  # parent id -> child ids (sorted by code)
    new_communes: dict[int, list[int]]  # 2025 province id -> its 2025 communes
    subject_ids: dict[str, int] = field(default_factory=dict)
    collection_ids: dict[str, int] = field(default_factory=dict)
    user_ids: list[int] = field(default_factory=list)


def _snapshot(bind) -> Snapshot:
    from archive.vocab.models import EthnicGroup, Place, ethnic_group_place

    places: dict[int, PlaceRow] = {}
    for row in bind.execute(
        select(
            Place.id,
            Place.code,
            Place.system,
            Place.level,
            Place.name,
            Place.parent_id,
            Place.current_province_id,
        ).order_by(Place.code)
    ):
        places[row.id] = PlaceRow(*row)
    by_code = {p.code: p for p in places.values()}
    children: dict[int, list[int]] = {}
    new_communes: dict[int, list[int]] = {}
    for p in sorted(places.values(), key=lambda p: p.code):
        if p.parent_id is not None:
            children.setdefault(p.parent_id, []).append(p.id)
        if p.system == "2025" and p.level == "commune" and p.current_province_id is not None:
            new_communes.setdefault(p.current_province_id, []).append(p.id)
    provinces_of: dict[int, list[str]] = {}
    for gid, pid in bind.execute(select(ethnic_group_place.c.ethnic_group_id, ethnic_group_place.c.place_id)):
        provinces_of.setdefault(gid, []).append(places[pid].code)
    groups = {}
    for g in bind.execute(select(EthnicGroup).order_by(EthnicGroup.slug)).scalars():
        names = {g.name_vi, g.name_en, *(g.other_names or [])}
        groups[g.slug] = Group(
            g.id,
            g.slug,
            g.name_vi,
            g.name_en,
            names,
            list(g.subgroups or []),
            sorted(provinces_of.get(g.id, [])),
            g.population_2019 or 1000,
        )
    if len(groups) < 54 or not places:
        raise RuntimeError("load the vocabularies first (archive.vocab.services.load_vocabularies)")
    return Snapshot(groups, places, by_code, children, new_communes)


# --------------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------------


class Generator:
    """Draws records; every choice comes from one seeded random generator."""

    def __init__(self, snap: Snapshot, seed: int):
        self.snap = snap
        self.rng = random.Random(seed)
        rng = self.rng
        demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))["records"]
        group_names = {
            slug: {g.name_vi, *(n for n in g.names if len(n) > 2)} | {g.name_vi.replace("Mnông", "M’nông")}
            for slug, g in snap.groups.items()
        }
        self.demo_types = _demo_types(demo, group_names)
        texts_vi = _slotted_texts(demo, group_names, "vi")
        texts_en = _slotted_texts(demo, group_names, "en")
        self.chain = {"vi": Chain([t for texts in texts_vi for t in texts]),
                      "en": Chain([t for texts in texts_en for t in texts])}  # fmt: skip
        self.own_chains = {"vi": [Chain(texts) for texts in texts_vi],
                           "en": [Chain(texts) for texts in texts_en]}  # fmt: skip
        topic_vi, own_vi = _topic_words(texts_vi, self.demo_types)
        topic_en, own_en = _topic_words(texts_en, self.demo_types)
        self.topic = {"vi": topic_vi, "en": topic_en}
        self.own_topic = {"vi": own_vi, "en": own_en}
        self.demo_captions = [
            (m["caption"]["vi"], m["caption"]["en"])
            for r in demo
            for m in r.get("media") or []
            if (m.get("caption") or {}).get("vi") and m["caption"].get("en")
        ]

        # Ethnic groups: weight ~ population^0.55, the Kinh majority rare in a minorities' archive.
        slugs = sorted(snap.groups)
        weights = [(snap.groups[s].population ** 0.55) * (0.03 if s == "kinh" else 1.0) for s in slugs]
        self.group_draw = Weighted(slugs, weights)
        self.demo_types_of: dict[str, list[PracticeType]] = {}
        for t in self.demo_types:
            for g in t.groups:
                self.demo_types_of.setdefault(g, []).append(t)
        generic = [
            PracticeType(cat, f"{prefix} {name}", name, en_title, en_name)
            for cat, prefix, name, en_title, en_name in GENERIC_TYPES
        ]
        rng.shuffle(generic)  # the Zipf rank of a generic practice is arbitrary but fixed by the seed
        self.generic_draw = Zipf(generic, 0.9)
        # The long tail of words: 150,000 minority-language words, drawn with Zipf weights.
        terms: set[str] = set()
        while len(terms) < 150_000:
            terms.add(_minority_word(rng))
        term_list = sorted(terms)
        rng.shuffle(term_list)
        self.terms = Zipf(term_list, 1.05)
        # Local practices with generated names (the long tail of practices): Zipf over 12,000 names.
        local_names: set[str] = set()
        while len(local_names) < 12_000:
            local_names.add(f"{_cap(rng.choice(LOCAL_SYLLABLES))} {_cap(self.terms.draw(rng))}")
        local = []
        for name in sorted(local_names):
            cat, prefix, en_suffix = rng.choice(LOCAL_PREFIXES)
            local.append(PracticeType(cat, f"{prefix} {name}", name, f"{name} {en_suffix}", name))
        rng.shuffle(local)
        self.local_draw = Zipf(local, 1.0)
        self.offerings = Zipf(OFFERINGS, 1.0)
        self.instruments = Zipf(INSTRUMENTS, 1.0)
        self.games = Zipf(GAMES, 1.0)
        self.materials = Zipf(MATERIALS, 1.0)
        self.purposes = Zipf(PURPOSES, 0.8)
        subjects = sorted({(s_vi, s_en) for t in self.demo_types for s_vi, s_en in t.subjects})
        subjects += EXTRA_SUBJECTS
        rng.shuffle(subjects)
        self.subjects = subjects
        self.subject_draw = Zipf(subjects, 1.0)
        self.collections = [(slug, vi, en) for slug, (vi, en) in DEMO_COLLECTIONS.items()] + EXTRA_COLLECTIONS
        # decades 1960s-2020s, more recent fieldwork more frequent
        self.decade_draw = Weighted([1960, 1970, 1980, 1990, 2000, 2010, 2020], [3, 5, 8, 14, 22, 28, 20])

    # -- small helpers -------------------------------------------------------------------------------

    def _tail(self) -> str:
        return self.terms.draw(self.rng)

    def _village(self) -> str:
        rng = self.rng
        first = rng.choice(LOCAL_SYLLABLES) if rng.random() < 0.5 else self.terms.draw(rng)
        return f"{rng.choice(VILLAGE_WORDS)} {_cap(first)} {_cap(self.terms.draw(rng))}"

    def _person(self) -> str:
        rng = self.rng
        return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {_cap(self.terms.draw(rng))}"

    def _place_for(self, group: Group) -> PlaceRow:
        """A unit where *group* lives: an old district/commune/province, or a new province/commune."""
        rng, snap = self.rng, self.snap
        codes = group.province_codes or ["pre2025-p01"]
        province = snap.by_code[rng.choice(codes)]
        r = rng.random()
        if r < 0.35:
            districts = snap.children.get(province.id) or [province.id]
            return snap.places[rng.choice(districts)]
        if r < 0.50:
            districts = snap.children.get(province.id) or [province.id]
            district = rng.choice(districts)
            communes = snap.children.get(district) or [district]
            return snap.places[rng.choice(communes)]
        if r < 0.70:
            return province
        new_province = snap.places[province.current_province_id or province.id]
        if r < 0.85:
            return new_province
        communes = snap.new_communes.get(new_province.id) or [new_province.id]
        return snap.places[rng.choice(communes)]

    def _place_label(self, place: PlaceRow) -> str:
        if place.level == "commune":
            return ("xã " if self.rng.random() < 0.6 else "") + place.name
        return place.name

    def _domain_sentence(self, lang: str) -> str:
        rng = self.rng
        i = 0 if lang == "vi" else 1
        r = rng.random()
        if r < 0.3:
            items = sorted({self.offerings.draw(rng)[i] for _ in range(3)})
            return (
                f"Lễ vật gồm {', '.join(items)}." if i == 0 else f"The offerings include {', '.join(items)}."
            )
        if r < 0.55:
            items = sorted({self.instruments.draw(rng)[i] for _ in range(2)})
            if i == 0:
                return f"Nhạc cụ được sử dụng có {' và '.join(items)}."
            return f"The instruments played are {' and '.join(items)}."
        if r < 0.8:
            items = sorted({self.games.draw(rng)[i] for _ in range(3)})
            if i == 0:
                return f"Phần hội có các trò {', '.join(items)}."
            return f"The festivities include {', '.join(items)}."
        items = sorted({self.materials.draw(rng)[i] for _ in range(2)})
        if i == 0:
            return f"Nguyên liệu chính là {' và '.join(items)}."
        return f"The main materials are {' and '.join(items)}."

    def _prose(self, lang: str, words: int, fill: Callable[[str], str], ptype: PracticeType) -> str:
        """Sentences of the chain (slots filled) and domain sentences, until about *words* words.
        A record of a demo practice draws a third of its sentences from that practice's own text."""
        rng = self.rng
        chain = self.chain[lang]
        own = self.own_chains[lang][ptype.demo_index] if ptype.demo_index is not None else None
        allowed = self.own_topic[lang][ptype.demo_index] if ptype.demo_index is not None else frozenset()
        topic = self.topic[lang]
        parts: list[str] = []
        count = 0
        while count < words:
            r = rng.random()
            if r < 0.15:
                sentence = self._domain_sentence(lang)
                parts.append(sentence)
                count += sentence.count(" ") + 1
                continue
            use = own if own is not None and own.successors and r < 0.45 else chain
            toks = use.sentence(rng, topic, allowed, self._tail)
            if len(toks) < 5:  # "Lễ hội." -- a fragment; draw again
                continue
            toks = [fill(t) if t[:1] == "{" else t for t in toks]
            parts.append(detokenize(toks))
            count += len(toks)
        return " ".join(parts)

    # -- one record ----------------------------------------------------------------------------------

    def record(self) -> dict:
        rng = self.rng
        snap = self.snap
        primary = snap.groups[self.group_draw.draw(rng)]
        r = rng.random()
        own_types = self.demo_types_of.get(primary.slug)
        if own_types and r < 0.5:
            ptype = own_types[min(int(rng.paretovariate(1.2)) - 1, len(own_types) - 1)]
        elif r < 0.87:
            ptype = self.generic_draw.draw(rng)
        else:
            ptype = self.local_draw.draw(rng)
        groups = [primary]
        if ptype.groups and len(ptype.groups) > 1 and rng.random() < 0.5:
            groups += [snap.groups[g] for g in ptype.groups if g != primary.slug and g in snap.groups]
        else:
            r = rng.random()
            extra = 1 if r < 0.16 else 2 if r < 0.20 else rng.randint(3, 7) if r < 0.22 else 0
            for _ in range(extra):
                g = snap.groups[self.group_draw.draw(rng)]
                if g not in groups:
                    groups.append(g)
        n_places = 1 if rng.random() < 0.7 else 2 if rng.random() < 0.8 else 3
        places: list[PlaceRow] = []
        for i in range(n_places):
            p = self._place_for(groups[i % len(groups)])
            if p not in places:
                places.append(p)
        main_place = places[0]
        place_label = self._place_label(main_place)
        village = self._village()
        person = self._person()
        decade = self.decade_draw.draw(rng)
        year = min(decade + rng.randint(0, 9), 2025)
        subgroup = rng.choice(primary.subgroups) if primary.subgroups and rng.random() < 0.1 else None
        group_vi = subgroup or primary.name_vi
        group_en = {"hmong": "Hmong", "cham": "Cham"}.get(primary.slug, primary.name_vi)

        # titles
        stem_vi, stem_en = ptype.stem_vi, ptype.stem_en
        if ptype.group_in_title:
            suffix_vi, suffix_en = "", ""
        else:
            suffix_vi, suffix_en = f" của người {group_vi}", f" of the {group_en}"
        r = rng.random()
        if r < 0.35:
            title_vi, title_en = stem_vi + suffix_vi, stem_en + suffix_en
        elif r < 0.70:
            title_vi = f"{stem_vi}{suffix_vi} ở {place_label}"
            title_en = f"{stem_en}{suffix_en} in {main_place.name}"
        elif r < 0.82:
            title_vi = f"{stem_vi}{suffix_vi} ({place_label}, {year})"
            title_en = f"{stem_en}{suffix_en} ({main_place.name}, {year})"
        elif r < 0.92:
            title_vi = f"{stem_vi}{suffix_vi} ở {village}"
            title_en = f"{stem_en}{suffix_en} in {village}"
        else:
            title_vi = f"{stem_vi} {village}"
            title_en = f"{stem_en}, {village}"
        texts: list[tuple[str, str, str]] = [("title", "vi", title_vi)]
        has_en = rng.random() < 0.72
        if has_en:
            texts.append(("title", "en", title_en))
        lang = GROUP_LANGS.get(primary.slug)
        if lang and rng.random() < 0.12:
            own = [v for tag, v in ptype.alternatives if tag == lang]
            texts.append(("title", lang, own[0] if own else f"{_cap(self._tail())} {self._tail()}"))
        if ptype.alternatives and rng.random() < 0.4:
            for tag, value in ptype.alternatives:
                if tag == "vi":
                    texts.append(("alternative", "vi", value))
        elif rng.random() < 0.05:
            texts.append(("alternative", "vi", f"{stem_vi} {village}"))

        # prose
        def fill_vi(slot: str) -> str:
            if slot == "{G}":
                return rng.choice(groups).name_vi if rng.random() < 0.8 else group_vi
            if slot == "{P}":
                return place_label if rng.random() < 0.6 else rng.choice(places).name
            return ptype.name_vi

        def fill_en(slot: str) -> str:
            if slot == "{G}":
                return group_en if rng.random() < 0.8 else rng.choice(groups).name_vi
            if slot == "{P}":
                return main_place.name if rng.random() < 0.7 else village
            return ptype.name_en

        purpose_vi, purpose_en = self.purposes.draw(rng)
        month = rng.randint(0, 11)
        lower_vi = stem_vi[:1].lower() + stem_vi[1:]
        r = rng.random()
        if r < 0.4:
            lead_vi, lead_en = (
                f"{stem_vi}{suffix_vi} ở {place_label}, {purpose_vi}. ",
                (f"The {ptype.name_en} of the {group_en} in {main_place.name}, held {purpose_en}. "),
            )
        elif r < 0.6:
            lead_vi = f"Tư liệu về {lower_vi} ở {village}. "
            lead_en = f"Documentation of the {ptype.name_en} at {village}. "
        else:
            lead_vi = lead_en = ""
        texts.append(("summary", "vi", lead_vi + self._prose("vi", rng.randint(8, 30), fill_vi, ptype)))
        words = int(min(250, max(60, rng.lognormvariate(4.75, 0.45))))
        r = rng.random()
        if r < 0.2:
            opening_vi = (
                f"{stem_vi} được người {group_vi} ở {village} ({place_label}) tổ chức vào "
                f"{MONTHS_VI[month]} âm lịch, {purpose_vi}. "
            )
            opening_en = (
                f"The {ptype.name_en} is held by the {group_en} of {village} ({main_place.name}) in the "
                f"{MONTHS_EN[month]} lunar month, {purpose_en}. "
            )
        elif r < 0.35:
            opening_vi = f"Ở {place_label}, người {group_vi} thực hành {lower_vi} từ nhiều đời nay. "
            opening_en = (
                f"In {main_place.name}, the {group_en} have practised the {ptype.name_en} for generations. "
            )
        elif r < 0.5:
            opening_vi = f"{stem_vi} là một sinh hoạt quan trọng của người {group_vi} ở {place_label}. "
            opening_en = (
                f"The {ptype.name_en} is an important part of the life of the {group_en} "
                f"of {main_place.name}. "
            )
        else:
            opening_vi = opening_en = ""
        closing = rng.random() < 0.5
        closing_vi = f" Tư liệu do {person} ghi lại năm {year} tại {village}." if closing else ""
        texts.append(
            ("description", "vi", opening_vi + self._prose("vi", words, fill_vi, ptype) + closing_vi)
        )
        if has_en:
            texts.append(("summary", "en", lead_en + self._prose("en", rng.randint(8, 30), fill_en, ptype)))
            if rng.random() < 0.85:
                closing_en = f" Recorded by {person} in {village} in {year}." if closing else ""
                body = self._prose("en", int(words * 1.1), fill_en, ptype)
                texts.append(("description", "en", opening_en + body + closing_en))

        # subjects, collections, dates
        subjects = list(dict.fromkeys(ptype.subjects[: rng.randint(0, len(ptype.subjects))]))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            s = self.subject_draw.draw(rng)
            if s not in subjects:
                subjects.append(s)
        collections = []
        if rng.random() < 0.4:
            if ptype.collection and rng.random() < 0.7:
                collections.append(ptype.collection)
            else:
                collections.append(self.collections[min(int(rng.paretovariate(0.8)) - 1, 11)][0])
        dates = []
        if rng.random() < 0.92:
            start = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
            dates.append(("recorded", start, None))
            if rng.random() < 0.15:
                end = start + dt.timedelta(days=rng.randint(1, 5))
                dates.append(("held", start, end))

        # media
        r = rng.random()
        n_media = 0 if r < 0.2 else 1 if r < 0.5 else 2 if r < 0.75 else 3 if r < 0.9 else rng.randint(4, 6)
        media = []
        for _ in range(n_media):
            r = rng.random()
            kind = "image" if r < 0.55 else "audio" if r < 0.77 else "video"
            if ptype.demo_index is not None and rng.random() < 0.3:
                cap_vi, cap_en = rng.choice(self.demo_captions)
            else:
                pat_vi, pat_en = rng.choice(CAPTION_PATTERNS)
                values = {
                    "F": (ptype.name_vi, ptype.name_en),
                    "G": (group_vi, group_en),
                    "P": (place_label, main_place.name),
                    "O": self.offerings.draw(rng),
                    "I": self.instruments.draw(rng),
                    "J": self.games.draw(rng),
                    "M": self.materials.draw(rng),
                    "N": (person, person),
                    "V": (village, village),
                }
                cap_vi = _cap(pat_vi.format(**{k: v[0] for k, v in values.items()}))
                cap_en = _cap(pat_en.format(**{k: v[1] for k, v in values.items()}))
            caption = [{"lang": "vi", "value": cap_vi}]
            if rng.random() < 0.6:
                caption.append({"lang": "en", "value": cap_en})
            media.append((kind, caption))

        r = rng.random()
        status = (
            "published" if r < 0.88 else "draft" if r < 0.93 else "in_review" if r < 0.97 else "withdrawn"
        )
        r = rng.random()
        access = (
            "public" if r < 0.85 else "researchers" if r < 0.92 else "community" if r < 0.97 else "private"
        )
        return {
            "category": ptype.category,
            "status": status,
            "access_level": access,
            "texts": texts,
            "groups": [g.id for g in groups],
            "places": [p.id for p in places],
            "subjects": subjects,
            "collections": collections,
            "dates": dates,
            "media": media,
            "year": year,
        }


# --------------------------------------------------------------------------------------------------
# Inserting
# --------------------------------------------------------------------------------------------------


def _ensure_support_rows(bind, gen: Generator) -> None:
    """Users, subjects and collections the records refer to (created once, looked up by key)."""
    from archive.accounts.models import User
    from archive.vocab.models import Collection, Subject
    from metadata.text import slugify

    snap = gen.snap
    existing = set(bind.execute(select(User.email)).scalars())
    rows = [
        {"email": f"bench-{i}@example.org", "display_name": f"Bench contributor {i}", "role": "contributor"}
        for i in range(1, 6)
        if f"bench-{i}@example.org" not in existing
    ]
    if rows:
        bind.execute(insert(User.__table__), rows)
    snap.user_ids = sorted(
        bind.execute(select(User.id).where(User.email.like("bench-%@example.org"))).scalars()
    )

    keys = dict(bind.execute(select(Subject.key, Subject.id)).all())
    rows, wanted = [], {}
    for s_vi, s_en in gen.subjects:
        key = slugify(s_vi)
        wanted[(s_vi, s_en)] = key
        if key not in keys and key not in {r["key"] for r in rows}:
            rows.append(
                {"key": key, "labels": [{"lang": "vi", "value": s_vi}, {"lang": "en", "value": s_en}]}
            )
    if rows:
        bind.execute(insert(Subject.__table__), rows)
    keys = dict(bind.execute(select(Subject.key, Subject.id)).all())
    snap.subject_ids = {f"{vi}|{en}": keys[key] for (vi, en), key in wanted.items()}

    slugs = dict(bind.execute(select(Collection.slug, Collection.id)).all())
    rows = [
        {"slug": slug, "title": [{"lang": "vi", "value": vi}, {"lang": "en", "value": en}], "description": []}
        for slug, vi, en in gen.collections
        if slug not in slugs
    ]
    if rows:
        bind.execute(insert(Collection.__table__), rows)
    snap.collection_ids = dict(bind.execute(select(Collection.slug, Collection.id)).all())


_MIME = {"image": ("image/jpeg", ".jpg"), "audio": ("audio/x-wav", ".wav"), "video": ("video/mp4", ".mp4")}
_FILENAME = {
    "image": ("IMG_", "DSC_", "P"),
    "audio": ("REC_", "ZOOM", "TASCAM_"),
    "video": ("MVI_", "C", "VID_"),
}


def generate(
    bind,
    n: int,
    seed: int = 2026,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert *n* synthetic records (with texts, links, dates, media) into the database behind *bind*
    (a SQLAlchemy Session or Connection), committing every *batch* records; returns the number inserted.
    The same *seed* and vocabularies always give the same records."""
    from archive.media.models import MediaFile
    from archive.records.models import (
        DocumentedDate,
        HeritageRecord,
        IssuedIdentifier,
        RecordText,
        record_collection,
        record_ethnic_group,
        record_place,
        record_subject,
    )
    from metadata.text import slugify

    snap = _snapshot(bind)
    gen = Generator(snap, seed)
    _ensure_support_rows(bind, gen)
    bind.commit()
    first_id = (bind.execute(select(func.max(HeritageRecord.id))).scalar() or 0) + 1
    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    tables = {
        "record": HeritageRecord.__table__,
        "issued": IssuedIdentifier.__table__,
        "text": RecordText.__table__,
        "group": record_ethnic_group,
        "place": record_place,
        "subject": record_subject,
        "collection": record_collection,
        "date": DocumentedDate.__table__,
        "media": MediaFile.__table__,
    }
    rng = gen.rng
    done = 0
    while done < n:
        rows: dict[str, list[dict]] = {k: [] for k in tables}
        for _ in range(min(batch, n - done)):
            rid = first_id + done
            done += 1
            rec = gen.record()
            public_id = f"{RECORD_ID_PREFIX}{rid:07d}"
            created = epoch + dt.timedelta(seconds=rng.randint(0, 86400 * 900))
            owner = rng.choice(snap.user_ids) if snap.user_ids and rng.random() < 0.5 else None
            title = rec["texts"][0][2]
            rows["record"].append(
                {
                    "id": rid,
                    "public_id": public_id,
                    "slug": f"{slugify(title, 70)}-{rid}",
                    "category": rec["category"],
                    "status": rec["status"],
                    "access_level": rec["access_level"],
                    "created_at": created,
                    "updated_at": created,
                    "published_at": created if rec["status"] in ("published", "withdrawn") else None,
                    "created_by_id": owner,
                    "updated_by_id": owner,
                    "version_id": 1,
                }
            )
            rows["issued"].append({"identifier": public_id, "kind": "record", "issued_at": created})
            positions: Counter = Counter()
            for fld, lang, value in rec["texts"]:
                rows["text"].append(
                    {"record_id": rid, "field": fld, "lang": lang, "value": value, "position": positions[fld]}
                )
                positions[fld] += 1
            for key, ids in (("group", rec["groups"]), ("place", rec["places"])):
                column = "ethnic_group_id" if key == "group" else "place_id"
                for pos, item in enumerate(dict.fromkeys(ids)):
                    rows[key].append({"record_id": rid, column: item, "position": pos})
            subject_ids = dict.fromkeys(snap.subject_ids[f"{s_vi}|{s_en}"] for s_vi, s_en in rec["subjects"])
            for pos, subject_id in enumerate(subject_ids):
                rows["subject"].append({"record_id": rid, "subject_id": subject_id, "position": pos})
            for pos, slug in enumerate(rec["collections"]):
                rows["collection"].append(
                    {"record_id": rid, "collection_id": snap.collection_ids[slug], "position": pos}
                )
            for kind, start, end in rec["dates"]:
                rows["date"].append({"record_id": rid, "kind": kind, "start": start, "end": end})
            for pos, (kind, caption) in enumerate(rec["media"]):
                media_id = f"{MEDIA_ID_PREFIX}{rid:07d}-{pos}"
                digest = hashlib.sha256(media_id.encode()).hexdigest()
                mime, suffix = _MIME[kind]
                is_visual = kind != "audio"
                rows["issued"].append({"identifier": media_id, "kind": "media", "issued_at": created})
                rows["media"].append(
                    {
                        "public_id": media_id,
                        "record_id": rid,
                        "kind": kind,
                        "original_filename": f"{rng.choice(_FILENAME[kind])}{rng.randint(1, 9999):04d}"
                        + suffix,
                        "storage_key": f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}",
                        "sha256": digest,
                        "size_bytes": {"image": 4_000_000, "audio": 60_000_000, "video": 400_000_000}[kind]
                        + rng.randint(0, 3_000_000),
                        "mime_type": mime,
                        "width": rng.choice((4000, 6000, 1920)) if is_visual else None,
                        "height": rng.choice((3000, 4000, 1080)) if is_visual else None,
                        "duration_seconds": round(rng.uniform(20, 1800), 1) if kind != "image" else None,
                        "caption": caption,
                        "access_level": "public" if rng.random() < 0.9 else "researchers",
                        "is_illustration": False,
                        "position": pos,
                        "created_at": created,
                        "created_by_id": owner,
                        "state": "ready",
                        "attempts": 1,
                        "processed_at": created,
                    }
                )
        for key, table in tables.items():
            if rows[key]:
                bind.execute(insert(table), rows[key])
        bind.commit()
        if progress is not None:
            progress(done)
    _fix_sequences(bind)
    return done


def _fix_sequences(bind) -> None:
    """On PostgreSQL, move the id sequence of heritage_record past the explicit ids we inserted."""
    from sqlalchemy import text

    dialect = bind.get_bind().dialect.name if hasattr(bind, "get_bind") else bind.dialect.name
    if dialect == "postgresql":
        bind.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('heritage_record', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM heritage_record))"
            )
        )
        bind.commit()


# --------------------------------------------------------------------------------------------------
# The query set
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One benchmark query: the text as a visitor types it, facet filters, sort, and what it exercises."""

    text: str
    kind: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"


QUERIES: list[Query] = [
    # broad: a large share of the collection
    Query("lễ hội", "broad"),
    Query("le hoi", "broad, folded"),
    Query("lễ", "broad"),
    Query("người", "broad"),
    Query("Tày", "broad, ethnic group"),
    Query("tay", "broad, folded group"),
    Query("Thái", "broad, ethnic group"),
    Query("Mông", "broad, ethnic group"),
    Query("festival", "broad, English"),
    Query("the festival", "broad, English"),
    Query("nghi lễ", "broad"),
    Query("cộng đồng", "broad"),
    # specific practices, with and without diacritics
    Query("lễ hội Lồng Tồng", "title"),
    Query("le hoi long tong", "title, folded"),
    Query("Gầu Tào", "title"),
    Query("gau tao", "title, folded"),
    Query("đàn tính", "title"),
    Query("dan tinh", "title, folded"),
    Query("hát Then", "title"),
    Query("xòe Thái", "title"),
    Query("cấp sắc người Dao", "title, 3 words"),
    Query("Katê Chăm", "title"),
    Query("Ok Om Bok", "title"),
    Query("Pồn Pôông", "title"),
    Query("mừng lúa mới", "title"),
    Query("cong chieng tay nguyen", "title, folded"),
    Query("sử thi Đam San", "title"),
    # places, old and new units
    Query("Bắc Kạn", "place, pre-2025 province"),
    Query("Thái Nguyên", "place, 2025 province"),
    Query("ha giang", "place, folded"),
    Query("Ba Bể", "place, district"),
    Query("Mèo Vạc", "place, district"),
    Query("Sóc Trăng", "place"),
    Query("Tuyên Quang Lồng Tồng", "place + title"),
    # English
    Query("new rice celebration", "English, 3 words"),
    Query("gong music", "English"),
    Query("brocade weaving", "English"),
    Query("ritual master offerings", "English, 3 words"),
    Query("Hmong New Year", "English"),
    # mixed Vietnamese / English
    Query("Tày festival", "mixed"),
    Query("khèn Hmong", "mixed"),
    Query("Ê Đê gong", "mixed"),
    # longer queries
    Query("lễ cúng thần núi của người Dao", "6 words"),
    Query("hát đối đáp nam nữ", "4 words"),
    Query("nghề dệt thổ cẩm Thái", "4 words"),
    Query("xuong dong cau mua nguoi Nung", "5 words, folded"),
    # misspellings and rare words
    Query("long tongg", "misspelling"),
    Query("festivl", "misspelling"),
    Query("Gàu Tào", "variant spelling"),
    Query("zèng", "rare word"),
    Query("chapi", "rare word"),
    # incomplete words (a visitor who stopped typing)
    Query("lồng tồ", "typed half-way (search does not expand prefixes)"),
    Query("dệt thổ c", "typed half-way"),
    Query("fest", "typed half-way, English"),
    # facet filters and sorts
    Query("lễ hội", "broad + group filter", filters={"ethnic_group": ["tay"]}),
    Query("festival", "broad + 2 groups", filters={"ethnic_group": ["thai", "hmong"]}),
    Query("lễ", "broad + category", filters={"category": ["ritual"]}),
    Query("hát", "broad + province (2025)", filters={"province": ["2025-p08"]}),
    Query("người", "broad + media type", filters={"media_type": ["audio"]}),
    Query("then", "group + collection filter", filters={"collection": ["songs-and-oral-traditions"]}),
    Query("lễ hội", "broad, newest first", sort="date_desc"),
    Query("Dao", "group, oldest first", sort="date_asc"),
    Query("dệt", "title order", sort="title"),
    Query("mừng lúa mới", "filtered + sorted", filters={"ethnic_group": ["e-de", "ba-na"]}, sort="date_desc"),
    # browse: no text, the whole visible collection with facets
    Query("", "browse (no text)"),
]


def word_stats(texts: list[str], top: int = 25) -> tuple[int, list[tuple[str, int]]]:
    """(distinct words, [(word, documents containing it)]) over *texts* (one text per document)."""
    df: Counter = Counter()
    for text in texts:
        df.update({w.lower() for w in re.findall(r"\w+", text)})
    return len(df), df.most_common(top)


def main() -> None:
    """Generate a corpus into a throw-away SQLite archive and show what it looks like."""
    import argparse
    import shutil
    import sys
    import tempfile
    import time

    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(
        description="Show a sample of the synthetic corpus and its word statistics."
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="records to generate")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show", type=int, default=3, help="records to print")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db
    from archive.records.models import RecordText
    from archive.vocab.services import load_vocabularies
    from config import TestConfig
    from metadata.text import fold

    work = Path(tempfile.mkdtemp(prefix="corpus-"))
    config = type(
        "CorpusConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'archive.sqlite3'}", "DATA_DIR": str(work)},
    )
    try:
        app = create_app(config)
        with app.app_context():
            upgrade()
            load_vocabularies(include_communes=True)
            db.session.commit()
            started = time.perf_counter()
            generate(db.session, args.n, seed=args.seed)
            print(f"{args.n:,} records generated and inserted in {time.perf_counter() - started:.1f} s")
            texts: dict[int, list[str]] = {}
            for rid, fld, lang, value in db.session.execute(
                select(RecordText.record_id, RecordText.field, RecordText.lang, RecordText.value).order_by(
                    RecordText.record_id, RecordText.field, RecordText.position
                )
            ):
                texts.setdefault(rid, []).append(value)
                if rid <= args.show:
                    print(f"  [{rid}] {fld}/{lang}: {value}")
            distinct, top = word_stats([fold(" ".join(v)) for v in texts.values()], 40)
            print(f"distinct folded words: {distinct:,}")
            print("documents holding the top words:")
            print("  " + ", ".join(f"{w} {100 * c / len(texts):.0f}%" for w, c in top))
            db.session.remove()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
