/* Problems found in a policy file, kept to be printed all at once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/policy.h"
#include "rowcat/sys/grow.h"

/* Enough to show everything wrong with a real file; a hostile one could
 * otherwise fill memory with messages. */
#define DIAGNOSTICS_KEPT 100

int policy_diagnostics_add(struct policy_diagnostics *diags,
			   struct policy_mark at, bool warning,
			   const char *fmt, ...)
{
	struct policy_diagnostic *d;
	va_list ap;

	if (!warning)
		diags->errors++;
	if (diags->count >= DIAGNOSTICS_KEPT)
		return 0;
	if (rc_grow((void **)&diags->items, &diags->capacity, diags->count + 1,
		    sizeof(*d), 8) < 0)
		return -ENOMEM;
	d = &diags->items[diags->count++];
	d->at = at;
	d->warning = warning;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return 0;
}

static int by_position(const void *a, const void *b)
{
	const struct policy_diagnostic *x = *(const struct policy_diagnostic *const *)a;
	const struct policy_diagnostic *y = *(const struct policy_diagnostic *const *)b;

	if (x->at.line != y->at.line)
		return x->at.line < y->at.line ? -1 : 1;
	if (x->at.column != y->at.column)
		return x->at.column < y->at.column ? -1 : 1;
	return x < y ? -1 : x > y; /* found first, printed first */
}

void policy_diagnostics_print(FILE *out, const char *file,
			      const struct policy_diagnostics *diags)
{
	const struct policy_diagnostic **order;
	size_t errors_shown = 0;

	if (!diags->count)
		return;
	order = calloc(diags->count, sizeof(*order));
	for (size_t i = 0; i < diags->count; i++) {
		if (order)
			order[i] = &diags->items[i];
	}
	if (order)
		qsort(order, diags->count, sizeof(*order), by_position);
	for (size_t i = 0; i < diags->count; i++) {
		const struct policy_diagnostic *d =
			order ? order[i] : &diags->items[i];
		fprintf(out, "%s:%d:%d: %s%s\n", file, d->at.line, d->at.column,
			d->warning ? "warning: " : "", d->message);
		errors_shown += !d->warning;
	}
	if (diags->errors > errors_shown)
		fprintf(out, "%s: %zu more errors not shown\n", file,
			diags->errors - errors_shown);
	free(order);
}

void policy_diagnostics_free(struct policy_diagnostics *diags)
{
	free(diags->items);
	memset(diags, 0, sizeof(*diags));
}
