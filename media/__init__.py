"""Framework-free media pipeline: checksums, technical facts via Pillow and ffprobe, illustrations."""
