#!/usr/bin/env bash
# Installs the MariaDB server binaries the tests need (mariadbd, mariadb-install-db) when they are
# missing. The tests start their own private server on 127.0.0.1 (test/support/mariadb.ts), so the
# system service is neither needed nor started.
set -euo pipefail

have_mariadb() {
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || command -v mysqld >/dev/null 2>&1 || [ -x /usr/sbin/mysqld ]
}

if have_mariadb; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-mariadb: mariadbd is missing and apt-get is not available; install MariaDB (mariadb-server) by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-mariadb: mariadbd is missing; run as root or install mariadb-server with your package manager" >&2
    exit 1
  fi
fi

echo "install-mariadb: installing mariadb-server (tests start their own server; the system service stays off)"
# policy-rc.d exit 101 keeps the package from starting the system service during installation.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ "$CREATED_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends mariadb-server

if ! have_mariadb; then
  echo "install-mariadb: mariadb-server installed but mariadbd was not found" >&2
  exit 1
fi
