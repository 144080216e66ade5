/*
 * Runs the fuzz target over files named on the command line, as libFuzzer
 * replays a corpus, for builds without libFuzzer (gcc, with or without
 * sanitizers). Exits non-zero when a file cannot be read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *in = fopen(argv[i], "rb");
		uint8_t *data = NULL;
		size_t size = 0, capacity = 0, n;

		if (!in) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (size == capacity) {
				capacity = capacity ? 2 * capacity : 4096;
				data = realloc(data, capacity);
				if (!data) {
					fclose(in);
					return 1;
				}
			}
			n = fread(data + size, 1, capacity - size, in);
			size += n;
		} while (n > 0);
		fclose(in);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
