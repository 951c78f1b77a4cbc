#!/bin/bash
# Builds the root file system of footprint's test stand-in for the MySQL
# container image, as a tar for `docker import`: MariaDB from Debian's packages
# and the entrypoint footprint-mysqld. FOR TESTS ONLY. See ../README.md.
#
#   testimage/standin-mysql/rootfs.sh SOURCES OUT.tar
#
# SOURCES is the host's apt sources file for bookworm: it is only the mirror
# argument, no host name is written into the tar. Needs root and mmdebstrap;
# mmdebstrap's temporary folder is under $TMPDIR (build.sh sets it to its work
# folder, whose mounts it cleans up). testimage/build.sh runs this script for
# the docker variant, and every file of this folder is part of that variant's
# cache key.
set -eu

if [ $# != 2 ]; then
	echo "usage: $0 SOURCES OUT.tar" >&2
	exit 2
fi
sources=$1
out=$2
dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

# The server, mariadb-install-db and my_print_defaults, the mariadb client,
# and useradd. The variant is essential: no apt in the container.
packages=mariadb-server-core,mariadb-client-core,passwd

# No documentation, manual pages, translations or iconv modules, and none of
# the MariaDB tools (about 5 MB each) that nothing here runs.
dpkgopts=()
for p in /usr/share/doc/'*' /usr/share/man/'*' /usr/share/info/'*' \
	/usr/share/locale/'*' /usr/share/lintian/'*' /usr/share/bug/'*' \
	/usr/lib/x86_64-linux-gnu/gconv/'*' \
	/usr/bin/mariadb-upgrade /usr/bin/mariadb-tzinfo-to-sql /usr/bin/innochecksum \
	/usr/bin/mariadb-check /usr/bin/resolveip; do
	dpkgopts+=(--dpkgopt="path-exclude=$p")
done

export FOOTPRINT_STANDIN_DIR=$dir
# mysqladmin (mariadb-admin) is in mariadb-client, which also brings Perl
# (about 55 MB): take only mariadb-admin and its mysqladmin link out of that
# package, the same version as mariadb-client-core, from the same mirror.
# shellcheck disable=SC2016 # the hooks' variables are for the hooks' shell
admin_hook='set -eu
v=$(dpkg-query --admindir="$1/var/lib/dpkg" -f "\${Version}" -W mariadb-client-core)
d=$(mktemp -d); chown _apt "$d"; cd "$d"
APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get download -q=2 "mariadb-client=$v"
dpkg-deb --fsys-tarfile mariadb-client_*.deb |
	tar -x -C "$1" ./usr/bin/mariadb-admin ./usr/bin/mysqladmin
cd /; rm -rf "$d"'

# The merged-usr hook sets up merged-/usr itself and installs usr-is-merged:
# the default, package usrmerge, would bring Perl too.
# shellcheck disable=SC2016 # the hooks' variables are for the hooks' shell
mmdebstrap --variant=essential --format=tar \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--include="$packages" \
	"${dpkgopts[@]}" \
	--customize-hook="$admin_hook" \
	--customize-hook='chroot "$1" useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mysql' \
	--customize-hook='install -m 0755 "$FOOTPRINT_STANDIN_DIR/footprint-mysqld" "$1/usr/local/bin/footprint-mysqld"' \
	--customize-hook='find "$1/var/log" -type f -delete; rm -f "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
	bookworm "$out" "$sources"
