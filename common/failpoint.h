/*
 * Failpoints: named places where a test can make rowcat die as if killed.
 *
 * RC_FAILPOINT("create.image.after") registers its name in the linker
 * section "rowcat_failpoints" and, when $ROWCAT_FAILPOINT equals that name,
 * kills the process with SIGKILL at that point. rc_failpoint_each walks
 * every registered name, so `rowcat debug failpoints` lists exactly the
 * failpoints compiled into the binary and the crash tests enumerate them
 * from it, never from a list someone keeps by hand.
 *
 * Names are OPERATION.STEP.before|after: one before and one after every
 * mutating librbd call and every journal commit.
 */
#ifndef ROWCAT_FAILPOINT_H
#define ROWCAT_FAILPOINT_H

struct rc_failpoint {
	const char *name;
};

#define RC_FAILPOINT(literal)                                              \
	do {                                                               \
		static const struct rc_failpoint rc_fp_here                \
			__attribute__((used, section("rowcat_failpoints"),  \
				       aligned(sizeof(void *)))) = { literal }; \
		rc_failpoint_reached(rc_fp_here.name);                     \
	} while (0)

/* Dies by SIGKILL when $ROWCAT_FAILPOINT names this failpoint. */
void rc_failpoint_reached(const char *name);

/* Calls fn for every failpoint compiled in, sorted by name, each once. */
void rc_failpoint_each(void (*fn)(const char *name, void *ctx), void *ctx);

#endif
