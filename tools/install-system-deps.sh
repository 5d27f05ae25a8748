#!/usr/bin/env bash
# Installs the Debian packages wallctl needs and that pip cannot provide.
#   build:  a C compiler and the ALSA headers (simpleaudio compiles against libasound)
#   run:    the xcb runtime libraries Qt 6.5+ needs for a real window; xvfb for a virtual display; espeak-ng (the
#           spoken announcements' local speech engine)
#   test:   mosquitto (the real broker the tests start); sox (to listen to captured audio);
#           prometheus-alertmanager, snmp + snmptrapd, bsdutils (logger): the real senders the gateway tests use
# Usage: tools/install-system-deps.sh [run|test]
set -euo pipefail
profile=${1:-run}
pkgs=(gcc libc6-dev libasound2-dev libasound2 alsa-utils
      libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
      libxcb-randr0 libxcb-render-util0 libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
      xvfb x11-xserver-utils espeak-ng)
if [ "$profile" = test ]; then pkgs+=(mosquitto sox openssl prometheus-alertmanager snmp snmptrapd bsdutils
  request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-no-thanks); fi  # RT 5: the incident connector's tests
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then pkgs+=(python3-venv); fi
if ! python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  pkgs+=(python3-dev)
fi

if ! command -v dpkg >/dev/null 2>&1; then
  echo "wallctl: not a Debian-like system; install the equivalents of: ${pkgs[*]}" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "wallctl: installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "wallctl: these Debian packages are missing and I am not root: ${missing[*]}" >&2
  echo "         run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's packages start system services (a broker on :1883, Alertmanager, snmptrapd); the tests start their own on
# free ports.
if [ "$profile" = test ] && command -v systemctl >/dev/null 2>&1; then
  for unit in mosquitto prometheus-alertmanager snmptrapd; do $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true; done
fi
