#!/bin/bash
# Builds a Debian bookworm cloud-init qcow2 image for TESTS ONLY, from Debian's
# packages (no internet needed, only the host's apt mirror). See README.md.
#
#   testimage/build.sh [--variant NAME] [--out PATH]
#
# The image is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/footprint/images,
# keyed by a hash of this script and the variant name. Progress goes to stderr;
# the last line of stdout is the absolute path of the image.
# Needs root, mmdebstrap, qemu-img, sfdisk, partx, losetup, mkfs.ext4.
set -eu

# Build in a private mount namespace: our mounts stay invisible to the rest of
# the machine (a namespace another program creates meanwhile would otherwise
# hold a copy of them and keep the loop device busy), and vanish with us.
if [ "$(id -u)" = 0 ] && [ -z "${FOOTPRINT_TESTIMAGE_NS:-}" ]; then
	export FOOTPRINT_TESTIMAGE_NS=1
	exec unshare --mount --propagation private -- "$(readlink -f "${BASH_SOURCE[0]}")" "$@"
fi
unset FOOTPRINT_TESTIMAGE_NS

# Every package list change below changes this file, and so the cache key.
base_packages=(
	linux-image-cloud-amd64 systemd-sysv udev dbus cloud-init cloud-guest-utils
	python3 curl ca-certificates procps iproute2 systemd-resolved netplan.io
	grub-pc openssh-server sudo netbase
)

# variant_packages NAME: prints the extra packages of a variant, one per line.
variant_packages() {
	case "$1" in
	'') ;;
	docker)
		# docker.io recommends apparmor: the kernel has AppArmor on, and
		# without apparmor_parser dockerd cannot load its docker-default
		# profile, so `docker run` fails.
		printf '%s\n' docker.io apparmor
		;;
	*)
		echo "build.sh: unknown variant '$1' (known: docker)" >&2
		return 1
		;;
	esac
}

# variant_recipe NAME: prints the folders (relative to this script's) that a
# variant is also built from, one per line. Their files are part of the
# variant's cache key.
variant_recipe() {
	case "$1" in
	docker) echo standin-mysql ;;
	esac
}

# variant_customize NAME: adds a variant's own files to the image in $root,
# after its packages.
variant_customize() {
	case "$1" in
	docker)
		# The stand-in for the MySQL image (standin-mysql/, see README.md):
		# a root file system for `docker import`, and the unit that imports it.
		echo "build.sh: building the MySQL stand-in image" >&2
		mkdir -p "$root/var/lib/footprint-test"
		TMPDIR=$work "$here/standin-mysql/rootfs.sh" "$sources" \
			"$root/var/lib/footprint-test/standin-mysql.tar"
		install -m 0644 "$here/standin-mysql/footprint-standin-image.service" \
			"$root/etc/systemd/system/"
		chroot "$root" systemctl enable footprint-standin-image.service
		;;
	esac
}

usage() {
	echo "usage: $0 [--variant NAME] [--out PATH]" >&2
	exit 2
}

variant=''
out=''
while [ $# -gt 0 ]; do
	case "$1" in
	--variant)
		[ $# -ge 2 ] || usage
		variant=$2
		shift 2
		;;
	--variant=*)
		variant=${1#*=}
		shift
		;;
	--out)
		[ $# -ge 2 ] || usage
		out=$2
		shift 2
		;;
	--out=*)
		out=${1#*=}
		shift
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

# Keep stdout for the final path only; everything else (ours, mmdebstrap's,
# apt's) goes to stderr.
exec 3>&1 1>&2

variant_packages "$variant" >/dev/null # fail (set -e) on an unknown variant
extra_packages=()
mapfile -t extra_packages < <(variant_packages "$variant")

self=$(readlink -f "${BASH_SOURCE[0]}")
here=$(dirname "$self")
recipe_files=()
while read -r d; do
	mapfile -t -O "${#recipe_files[@]}" recipe_files < <(find "$here/$d" -type f | LC_ALL=C sort)
done < <(variant_recipe "$variant")
hash=$( (
	cat "$self"
	printf '\nvariant=%s\n' "$variant"
	# Nothing more for a variant without recipe folders (its key stays as is).
	for f in "${recipe_files[@]}"; do
		printf '\nfile=%s\n' "${f#"$here"/}"
		cat "$f"
	done
) | sha256sum | cut -c1-12)
name=test-bookworm${variant:+-$variant}-$hash.qcow2
cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/footprint/images
mkdir -p "$cache_dir"
cache_dir=$(readlink -f "$cache_dir")
image=$cache_dir/$name

# place_and_print: copies or links the cached image to --out and prints the
# final path as the last line of stdout.
place_and_print() {
	local result=$image
	if [ -n "$out" ]; then
		result=$(readlink -m "$out")
		if [ "$result" != "$image" ]; then
			mkdir -p "$(dirname "$result")"
			ln -f "$image" "$result" 2>/dev/null || cp -f "$image" "$result"
		fi
	fi
	echo "$result" >&3
}

# Serialise builds of the same cache folder (parallel test runs).
exec 9>"$cache_dir/.lock"
flock 9

if [ -f "$image" ]; then
	echo "build.sh: cached $image" >&2
	place_and_print
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "build.sh: must run as root to build $name" >&2
	exit 1
fi

sources=''
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	if [ -s "$f" ] && grep -q '^[^#]*bookworm' "$f"; then
		sources=$f
		break
	fi
done
if [ -z "$sources" ]; then
	echo "build.sh: no host apt sources for bookworm found" >&2
	exit 1
fi

# The host sets it; we want the guest's Python bytecode compiled at build time.
unset PYTHONDONTWRITEBYTECODE
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

work=$(mktemp -d "$cache_dir/.build-XXXXXX")
chmod 755 "$work" # apt downloads as _apt
root=$work/root
loop=''

cleanup() {
	local rc=$?
	set +e
	if [ -d "$root" ]; then
		# Everything below the work folder, deepest first (bind mounts too).
		findmnt -rn -o TARGET | grep -F "$work/" | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m"
		done
	fi
	if [ -n "$loop" ]; then
		partx -d "$loop" 2>/dev/null
		losetup -d "$loop"
	fi
	# Never delete through a mount that is still there (it could be /dev).
	if findmnt -rn -o TARGET | grep -qF "$work/"; then
		echo "build.sh: something is still mounted below $work; not removing it" >&2
		rc=1
	else
		rm -rf "$work"
	fi
	if [ "$rc" != 0 ]; then
		echo "build.sh: FAILED (exit $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
echo "build.sh: building $name (variant '${variant:-default}') from $sources" >&2

raw=$work/disk.raw
truncate -s 2G "$raw"
echo 'type=83, bootable' | sfdisk --quiet --label dos "$raw"
loop=$(losetup -f --show -P "$raw")
# This kernel does not scan loop partitions by itself.
if [ ! -b "${loop}p1" ]; then
	partx -a "$loop"
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -b "${loop}p1" ] && break
	sleep 0.2
done
part=${loop}p1
mkfs.ext4 -q -L root "$part"
uuid=$(blkid -s UUID -o value "$part")
mkdir "$root"
mount "$part" "$root"

# Files in place before the packages: fstab, and the root file system type for
# the initramfs fsck hook (it cannot find the device from inside the chroot).
mkdir -p "$work/setup/etc/initramfs-tools/conf.d"
printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" >"$work/setup/etc/fstab"
echo FSTYPE=ext4 >"$work/setup/etc/initramfs-tools/conf.d/footprint-fstype"
export FOOTPRINT_SETUP=$work/setup
packages=("${base_packages[@]}" "${extra_packages[@]}")
# shellcheck disable=SC2016 # $1 and $FOOTPRINT_SETUP are for the hook's shell
mmdebstrap --variant=minbase \
	--setup-hook='cp -a "$FOOTPRINT_SETUP"/. "$1"/' \
	--include="$(
		IFS=,
		echo "${packages[*]}"
	)" \
	bookworm "$root" "$sources"
variant_customize "$variant"

# Identity: a generic image, every boot gets its own machine-id and host keys.
echo localhost >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
: >"$root/etc/machine-id"
if [ -f "$root/var/lib/dbus/machine-id" ] && [ ! -L "$root/var/lib/dbus/machine-id" ]; then
	rm -f "$root/var/lib/dbus/machine-id"
fi
rm -f "$root"/etc/ssh/ssh_host_*

echo LANG=C.UTF-8 >"$root/etc/default/locale"
cat >"$root/etc/cloud/cloud.cfg.d/90-footprint-test.cfg" <<'EOF'
# footprint test image: the VMs get a NoCloud seed; do not probe network
# datasources. RSA host keys cost ~9 s under TCG: ed25519 and ecdsa only.
datasource_list: [ NoCloud, None ]
ssh_genkeytypes: [ed25519, ecdsa]
# No locales package in the image: keep C.UTF-8 (see /etc/default/locale)
# instead of generating en_US.UTF-8, which fails.
locale: C.UTF-8
EOF

# Compile Python so the guest does not pay for it on first boot.
chroot "$root" python3 -m compileall -q -j 0 /usr/lib/python3 /usr/lib/python3.11 >/dev/null ||
	echo "build.sh: warning: some Python files did not compile" >&2

# Boot loader: grub-install on the loop device, hand-written grub.cfg.
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
chroot "$root" grub-install --target=i386-pc --modules="part_msdos ext2" "$loop"
umount "$root/sys" "$root/proc" "$root/dev"

kernels=("$root"/boot/vmlinuz-*)
[ "${#kernels[@]}" = 1 ] && [ -f "${kernels[0]}" ]
version=${kernels[0]##*/vmlinuz-}
[ -f "$root/boot/initrd.img-$version" ]
cat >"$root/boot/grub/grub.cfg" <<EOF
set default=0
set timeout=0
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian bookworm (footprint test image)' {
	linux /boot/vmlinuz-$version root=UUID=$uuid ro console=ttyS0
	initrd /boot/initrd.img-$version
}
EOF

# Clean up: apt caches and lists, logs, temporary files.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
find "$root/var/log" -type f -delete
rm -rf "${root:?}"/tmp/* "${root:?}"/var/tmp/*
# The downloaded .debs were written into this filesystem: give their blocks back
# so that qemu-img does not copy them.
fstrim "$root" || echo "build.sh: warning: fstrim failed; the image will be larger" >&2

umount "$root"
e2fsck -f -p "$part" >&2
partx -d "$loop" 2>/dev/null || true
losetup -d "$loop"
loop=''

qemu-img convert -c -O qcow2 "$raw" "$work/image.qcow2"
rm -f "$raw"
mv "$work/image.qcow2" "$image"
echo "build.sh: built $image ($(du -h "$image" | cut -f1)) in $(($(date +%s) - start)) s" >&2
place_and_print
