#!/bin/bash
# Builds the root file system of footprint's test stand-in for the MySQL
# container image, as a tar for `docker import`: MariaDB from Debian's packages
# and the entrypoint footprint-mysqld. FOR TESTS ONLY. See ../README.md.
#
#   testimage/standin-mysql/rootfs.sh SOURCES OUT.tar
#
# SOURCES is the host's apt sources file for bookworm (it is only the mirror
# argument: no host name is written into the tar). Needs root and mmdebstrap.
# testimage/build.sh runs it for the docker variant; the files of this folder
# are part of that variant's cache key.
set -eu

if [ $# != 2 ]; then
	echo "usage: $0 SOURCES OUT.tar" >&2
	exit 2
fi
sources=$1
out=$2
dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

# Only what footprint-mysqld and the readiness check need: the server,
# mariadb-install-db, my_print_defaults, mysqladmin and the mariadb client.
packages=mariadb-server-core,mariadb-client-core,mariadb-client

# No documentation, manual pages or translations; none of the client tools
# (about 5 MB each) that nothing here runs.
excludes=(
	/usr/share/doc/ /usr/share/man/ /usr/share/info/ /usr/share/locale/
	/usr/share/lintian/ /usr/share/bug/
	/usr/bin/mariadb-binlog /usr/bin/mariadb-conv /usr/bin/mariadb-dump
	/usr/bin/mariadb-import /usr/bin/mariadb-plugin /usr/bin/mariadb-show
	/usr/bin/mariadb-slap /usr/bin/mariadb-waitpid /usr/bin/mariadb-check
	/usr/bin/mariadb-upgrade /usr/bin/innochecksum /usr/bin/innotop
	/usr/bin/perror /usr/bin/replace /usr/bin/resolve_stack_dump
)
dpkgopts=()
for p in "${excludes[@]}"; do
	case "$p" in
	*/) dpkgopts+=(--dpkgopt="path-exclude=$p*") ;;
	*) dpkgopts+=(--dpkgopt="path-exclude=$p") ;;
	esac
done

export FOOTPRINT_STANDIN_DIR=$dir
# shellcheck disable=SC2016 # $1 and $FOOTPRINT_STANDIN_DIR are for the hooks' shell
mmdebstrap --variant=minbase --format=tar \
	--include="$packages" \
	"${dpkgopts[@]}" \
	--customize-hook='chroot "$1" useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mysql' \
	--customize-hook='install -m 0755 "$FOOTPRINT_STANDIN_DIR/footprint-mysqld" "$1/usr/local/bin/footprint-mysqld"' \
	--customize-hook='rm -rf "$1"/var/log/* "$1"/var/cache/debconf/*-old "$1"/etc/machine-id "$1"/var/lib/dpkg/*-old' \
	bookworm "$out" "$sources"
