/*
 * Builds synthetic lineages in a catalog, for tests and benchmarks at scale
 * (no cluster involved): `volumes` volumes, each a chain of `generations`
 * images, as `generations - 1` rowcat snaps would leave it.
 *
 * Volume i is named "vol%06d"; its images "vol%06d.g%04d" in pool "rbd";
 * its snapshots "s%04d". The operating image of each volume is the last
 * generation, of depth generations - 1.
 */
#ifndef ROWCAT_LINEAGE_GEN_H
#define ROWCAT_LINEAGE_GEN_H

#include "rowcat/catalog.h"

int lineage_gen(struct catalog *cat, int volumes, int generations,
		struct rc_error *err);

#endif
