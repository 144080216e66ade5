/*
 * Fuzz target for the policy parser: any bytes in, a policy or
 * diagnostics out, never a crash, a leak or undefined behaviour.
 * Built with libFuzzer (clang -fsanitize=fuzzer) when ROWCAT_FUZZ is on;
 * replay.c runs it over the seed corpus in every other build.
 */
#include <stddef.h>
#include <stdint.h>

#include "rowcat/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diagnostics diags = {0};
	struct policy_file *file = NULL;

	if (policy_parse(&file, (const char *)data, size, &diags) == 0) {
		/* what the commands do next with a valid file */
		for (size_t i = 0; i < file->policy_count; i++) {
			int64_t due;
			struct rc_error err = {0};

			policy_next_due(&file->policies[i], 1764064800, &due, &err);
			policy_match(file, "rbd", "", "vm-1");
		}
	}
	policy_file_free(file);
	policy_diagnostics_free(&diags);
	return 0;
}
