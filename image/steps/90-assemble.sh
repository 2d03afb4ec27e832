#!/usr/bin/env bash
# Lay out the card: 1 boot (FAT32), 2 root (ext4, read-only), 3 data (ext4, grows on first boot).
# No loop devices: each file system is made from a directory into a file, then
# written into the disk file at its partition's offset.
set -euo pipefail
root=$1
BOOT_MIB=256
DATA_MIB=256
stage=$WORK/stage
rm -rf "$stage" "$WORK"/*.fat "$WORK"/*.ext4 "$WORK"/*.img
mkdir -p "$stage/boot" "$stage/data/kiosk" "$stage/data/log" "$stage/data/systemd"

# Boot: everything the firmware reads. It is held aside while the root file
# system is made (so it is not stored twice) and put back after, so the step can rerun.
cp -a "$root/boot/firmware/." "$stage/boot/"
rm -rf "$WORK/firmware.hold"
mv "$root/boot/firmware" "$WORK/firmware.hold"
mkdir "$root/boot/firmware"
restore_firmware() {
  rmdir "$root/boot/firmware"
  mv "$WORK/firmware.hold" "$root/boot/firmware"
}
trap restore_firmware EXIT

# Data: the kiosk's home, logs, and systemd's state (clock, random seed) the read-only root cannot hold.
kiosk_ids=$(chroot "$root" id -u kiosk):$(chroot "$root" id -g kiosk)
cp -a "$root/var/log/." "$stage/data/log/"
cp -a "$root/var/lib/systemd/." "$stage/data/systemd/"
mkdir -p "$stage/data/kiosk/kivy"
cp "$REPO/image/kivy-config.ini" "$stage/data/kiosk/kivy/config.ini"
# The flattened CJK faces from 85-fonts.sh, where KIOSK_CACHE points (kiosk.service).
cp -a "$WORK/kiosk-cache" "$stage/data/kiosk/cache"
chown -R "$kiosk_ids" "$stage/data/kiosk"
chmod 0750 "$stage/data/kiosk"

# Name resolution through systemd-resolved (mmdebstrap may have left the build's file).
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

root_mib=$(( $(du -sm "$root" | cut -f1) * 120 / 100 + 64 ))
mkfs.vfat -F 32 -n KIOSKBOOT -C "$WORK/boot.fat" $((BOOT_MIB * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$WORK/boot.fat" "$stage/boot/"* ::
mkfs.ext4 -q -L kiosk-root -d "$root" -E root_owner=0:0 "$WORK/root.ext4" "${root_mib}M"
restore_firmware
trap - EXIT
mkfs.ext4 -q -L kiosk-data -d "$stage/data" "$WORK/data.ext4" "${DATA_MIB}M"

img=$WORK/$NAME.img
total=$((4 + BOOT_MIB + root_mib + DATA_MIB))
truncate -s "${total}M" "$img"
sfdisk --quiet "$img" <<LAYOUT
label: dos
start=4MiB, size=${BOOT_MIB}MiB, type=c, bootable
size=${root_mib}MiB, type=83
size=${DATA_MIB}MiB, type=83
LAYOUT
sfdisk --json "$img" > "$WORK/layout.json"
offsets=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["partitiontable"]; print(" ".join(str(p["start"]) for p in t["partitions"]))' "$WORK/layout.json")
read -r boot_at root_at data_at <<<"$offsets"
dd if="$WORK/boot.fat" of="$img" bs=512 seek="$boot_at" conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$img" bs=512 seek="$root_at" conv=notrunc,sparse status=none
dd if="$WORK/data.ext4" of="$img" bs=512 seek="$data_at" conv=notrunc,sparse status=none

bmaptool create -o "$OUT/$NAME.bmap" "$img"
extract_size=$(stat -c %s "$img")
extract_sha=$(sha256sum "$img" | cut -d' ' -f1)
xz -T0 -6 -f -c "$img" > "$OUT/$NAME.img.xz"
(cd "$OUT" && sha256sum "$NAME.img.xz" > "$NAME.img.xz.sha256")
# Raspberry Pi Imager downloads from a full URL: only with IMAGE_URL_BASE (build.sh).
rm -f "$OUT/os_list.json"
if [ -z "${IMAGE_URL_BASE:-}" ]; then
  echo "90-assemble: no os_list.json: set IMAGE_URL_BASE=https://host/path/ to where the .img.xz will be served"
else
  python3 "$REPO/image/os_list.py" --name "$NAME" --version "$VERSION" --commit "$COMMIT" \
    --image "$OUT/$NAME.img.xz" --extract-size "$extract_size" --extract-sha256 "$extract_sha" \
    --url-base "$IMAGE_URL_BASE" > "$OUT/os_list.json.part"
  mv "$OUT/os_list.json.part" "$OUT/os_list.json"
fi
ls -l "$OUT"
