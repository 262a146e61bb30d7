#!/usr/bin/env bash
# Debian packages the tests and PDFs need: Chromium (browser tests, print-to-PDF), CJK fonts
# (Chinese text in PDFs), poppler-utils (pdftoppm/pdftotext to inspect PDFs).
# Installed only when missing and only where we may (root with apt-get); otherwise say what is missing.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'noto.*cjk' || need+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep -qi "dejavu math" || need+=(fonts-dejavu-extra)  # stretchy brackets and roots in printed math
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "warning: missing system packages (${need[*]}); browser and PDF tests will be skipped" >&2
fi
exit 0
