#!/bin/sh
# The explorer's browser test drives a system Chromium through Playwright (never a browser
# download, which these machines cannot make). `make test` calls this first: it installs
# Chromium with the system's package manager on Debian or Ubuntu when it runs as root or
# with passwordless sudo, and otherwise says in one line why not. It never fails by itself:
# the test then skips with the same advice, or fails under CI=true (tests/browser.py).
for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: no Chromium on PATH and no apt-get here; install Chromium to run the explorer's browser test"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo_=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_="sudo -n"
else
    echo "browser: no Chromium, and installing it needs root: sudo apt-get install chromium"
    exit 0
fi
echo "browser: installing Chromium with apt-get (once; the explorer's browser test uses it)"
$sudo_ apt-get update -qq >/dev/null 2>&1
# Debian names the package chromium; Ubuntu's deb is chromium-browser
for package in chromium chromium-browser; do
    if DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "$package" >/dev/null 2>&1; then
        exit 0
    fi
done
echo "browser: apt-get could not install Chromium; the explorer's browser test will say so"
exit 0
