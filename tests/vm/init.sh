#!/bin/busybox sh
# shellcheck shell=dash
# /init of the test guest's initramfs (built by tests/vm/vm.sh): loads the
# virtio modules, waits for the disk and runs guest_writer on it, its
# output on the console. Kernel command line knobs: rowcat.delay_us=N
# (pause between records), rowcat.count=N (records to write, 0: the whole
# disk). PID 1 must never end (the kernel would panic), so it idles after.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

for m in $(cat /lib/modules/load); do
	insmod "/lib/modules/$m.ko" || echo "guest: insmod $m failed"
done

delay_us=0 count=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	rowcat.delay_us=*) delay_us=${arg#*=} ;;
	rowcat.count=*) count=${arg#*=} ;;
	esac
done

# the disk appears once virtio_pci has probed virtio_blk's device; devtmpfs
# creates the node
while [ ! -b /dev/vda ]; do
	usleep 10000
done
# kernel messages could land inside an ack line on the shared console
echo 1 > /proc/sys/kernel/printk

echo "guest: writing to /dev/vda ($(cat /sys/block/vda/size) sectors)"
guest_writer /dev/vda "$delay_us" "$count"
echo "guest: writer exited $?"
while :; do
	sleep 3600
done
