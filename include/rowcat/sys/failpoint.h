/*
 * Failpoints: named places where a test can make rowcat die as if killed.
 *
 * RC_FAILPOINT("row.clone.after") registers its name in the linker section
 * "rowcat_failpoints" and acts when $ROWCAT_FAILPOINT names it:
 *
 *   ROWCAT_FAILPOINT=NAME        the process kills itself with SIGKILL there
 *   ROWCAT_FAILPOINT=NAME:stop   it stops itself with SIGSTOP there (the
 *                                thread that reaches it goes no further), so
 *                                a test can change the world (pause the
 *                                OSDs) and then let it go on with SIGCONT
 *   ROWCAT_FAILPOINT=NAME:error  where the code asks (rc_failpoint_error),
 *                                the step there fails with EIO: a failure
 *                                that waiting does not cure, to drive the
 *                                undo paths
 *   ROWCAT_FAILPOINT=NAME:block  the thread that reaches it waits there
 *                                until rowcat wakes it on an event of its
 *                                own (a live snap's watchdog resuming the
 *                                guest), so a test meets that event at a
 *                                known step without timing anything
 *   ROWCAT_FAILPOINT=A:error,B   several, separated by commas: fail at A,
 *                                then die at B on the way back
 *
 * With $ROWCAT_FAILPOINT_TRACE naming a file, every failpoint reached is
 * appended to it, one name per line: the crash tests learn from a clean run
 * which failpoints a command passes.
 *
 * rc_failpoint_each walks every registered name, so `rowcat debug
 * failpoints` lists exactly the failpoints compiled into the binary and the
 * crash tests enumerate them from it, never from a list someone keeps by
 * hand.
 *
 * Names are AREA.STEP.before|after: one before and one after every
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

/* Acts as $ROWCAT_FAILPOINT says when it names this failpoint. */
void rc_failpoint_reached(const char *name);

/* Lets every thread held at a NAME:block failpoint go on. */
void rc_failpoint_wake_blocked(void);

/* -EIO when $ROWCAT_FAILPOINT says NAME:error, else 0. */
int rc_failpoint_error(const char *name);

/* Calls fn for every failpoint compiled in, sorted by name, each once. */
void rc_failpoint_each(void (*fn)(const char *name, void *ctx), void *ctx);

#endif
