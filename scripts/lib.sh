# Shared set-up steps for scripts/install-and-run and scripts/test. Sourced, not run.
# Installs what is missing: Debian packages (as root, or through sudo), a virtual environment with
# the project and its test dependencies, the compiled interface translations, and the browser libraries
# of package.json in node_modules.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ARCHIVE_VENV:-$ROOT/.venv}"

ensure_debian_packages() {
  # $@: "command:package" pairs; installs the packages whose command is missing.
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkg="${pair##*:}"
    if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! " ${missing[*]} " =~ " $pkg " ]]; then
      missing+=("$pkg")
    fi
  done
  # Python's venv module and a font with Vietnamese glyphs for the demo illustrations.
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python3-venv")
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=("fonts-dejavu-core")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "Please install as root: apt-get install -y ${missing[*]}" >&2; return 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_venv() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
  fi
  # The versions are those of requirements.lock (scripts/lock-dependencies writes it), which CI audits.
  local stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q --constraint "$ROOT/requirements.lock" -e "$ROOT[test,bench]"
    touch "$stamp"
  fi
  "$VENV/bin/pybabel" compile -d "$ROOT/archive/translations" >/dev/null
}

ensure_node_modules() {
  # Browser libraries served to the pages (tus-js-client for resumable uploads), pinned by
  # package-lock.json; installed again when the lock file changes.
  ensure_debian_packages node:nodejs npm:npm || return 1
  local stamp="$ROOT/node_modules/.installed-$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    touch "$stamp"
  fi
}
