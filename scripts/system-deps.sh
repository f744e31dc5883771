#!/usr/bin/env bash
# Installs the Debian packages InfoCenter KB needs when they are missing (idempotent):
#   chromium            browser tests (driven by playwright with executable_path=/usr/bin/chromium)
#   fonts-noto-cjk      Noto Sans/Serif CJK SC for PDFs and pages
#   fonts-dejavu-core   DejaVu Sans Mono for code in PDFs
#   libpango-1.0-0 libpangoft2-1.0-0   WeasyPrint's text layout
#   poppler-utils       pdftotext/pdfinfo/pdffonts/pdftoppm to read PDFs back in tests
#   zbar-tools          zbarimg: tests decode the QR code printed on PDFs
#   nginx               the deployment recipe's integration test
#   git                 history, archived versions, publish
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have_cmd chromium || need+=(chromium)
have_pkg fonts-noto-cjk || need+=(fonts-noto-cjk)
have_pkg fonts-dejavu-core || need+=(fonts-dejavu-core)
have_pkg libpango-1.0-0 || need+=(libpango-1.0-0)
have_pkg libpangoft2-1.0-0 || need+=(libpangoft2-1.0-0)
have_cmd pdftotext || need+=(poppler-utils)
have_cmd zbarimg || need+=(zbar-tools)
have_cmd nginx || [ -x /usr/sbin/nginx ] || need+=(nginx)
have_cmd git || need+=(git)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}"
# nginx's package starts a daemon on port 80; our tests run their own instance on loopback
if have_pkg nginx && command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl stop nginx >/dev/null 2>&1 || true
fi
