/*
 * guest_writer: the test guest's only program (tests/vm/). Writes numbered
 * records (tests/vm/record.h) to a block device, one at a time, in order,
 * with direct and synchronous I/O, and reports each on stdout (the serial
 * console) once the write has returned:
 *
 *   nonce HEX          first, the boot's nonce (in every record)
 *   ack N              record N is on the disk: pwrite returned, and with
 *                      O_DSYNC the device has flushed it
 *   ioerr N ERRNO      writing record N failed (a short write is EIO);
 *                      nothing more is written
 *   end N              the disk is full: N records written
 *
 *   guest_writer DEVICE [DELAY_US [COUNT]]
 *
 * DELAY_US (default 0) sleeps between records, for a slow (TCG) guest;
 * COUNT stops after that many records (default: the end of the disk).
 * It never reads the disk: what landed is for the host to judge, from the
 * cluster. Built with `cc -static`, outside the project's build flags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

/* One whole line per write(2), so that nothing else on the console can
 * land inside it. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return;
	for (int done = 0; done < len;) {
		ssize_t n = write(STDOUT_FILENO, line + done, (size_t)(len - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (int)n;
	}
}

int main(int argc, char **argv)
{
	unsigned long delay_us = 0, count = 0;
	unsigned char *rec = NULL;
	uint64_t size = 0, nonce = 0, records, n;
	int fd, lbs = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: guest_writer DEVICE [DELAY_US [COUNT]]\n");
		return 2;
	}
	if (argc > 2)
		delay_us = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		count = strtoul(argv[3], NULL, 10);

	fd = open(argv[1], O_WRONLY | O_DIRECT | O_DSYNC);
	if (fd < 0) {
		say("ioerr 0 %d open\n", errno);
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0) {
		say("ioerr 0 %d ioctl\n", errno);
		return 1;
	}
	/* O_DIRECT wants offsets and lengths in logical blocks: a record is
	 * one of them. */
	if (lbs != RECORD_SIZE) {
		say("ioerr 0 %d logical block size %d, records need %u\n", EINVAL, lbs,
		    RECORD_SIZE);
		return 1;
	}
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		say("ioerr 0 %d getrandom\n", errno);
		return 1;
	}
	if (posix_memalign((void **)&rec, 4096, RECORD_SIZE) != 0) {
		say("ioerr 0 %d memalign\n", ENOMEM);
		return 1;
	}
	say("nonce %016" PRIx64 "\n", nonce);

	records = size / RECORD_SIZE;
	if (count && count < records)
		records = count;
	for (n = 0; n < records; n++) {
		ssize_t w;

		record_make(rec, n, nonce);
		do
			w = pwrite(fd, rec, RECORD_SIZE, (off_t)(n * RECORD_SIZE));
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)RECORD_SIZE) {
			say("ioerr %" PRIu64 " %d\n", n, w < 0 ? errno : EIO);
			return 1;
		}
		say("ack %" PRIu64 "\n", n);
		if (delay_us) {
			struct timespec ts = { (time_t)(delay_us / 1000000),
					       (long)(delay_us % 1000000) * 1000 };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	say("end %" PRIu64 "\n", n);
	return 0;
}
