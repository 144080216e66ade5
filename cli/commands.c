/* The command table: every rowcat command, in the order --help lists them. */
#include <stddef.h>

#include "cli.h"

const struct cli_command cli_commands[] = {
	{ "init",   cmd_init,   "create the catalog, or migrate it to this version" },
	{ "create", cmd_create, "create a volume: an RBD image and its catalog entry" },
	{ "adopt",  cmd_adopt,  "record existing images (OpenStack, ceph-csi, ...) as volumes" },
	{ "ls",     cmd_ls,     "list volumes" },
	{ "which",  cmd_which,  "print a volume's operating image (what to attach)" },
	{ "tree",   cmd_tree,   "draw a volume's lineage of images and snapshots" },
	{ "du",     cmd_du,     "what each image and snapshot holds, and what gc would free" },
	{ "snap",   cmd_snap,   "take a ROW snapshot: snapshot, protect, clone, switch" },
	{ "restore", cmd_restore, "switch a volume to a new clone of one of its snapshots" },
	{ "flatten", cmd_flatten, "flatten a volume's operating image" },
	{ "consumer", cmd_consumer, "record the QEMU monitor of a volume's running guest" },
	{ "rm",     cmd_rm,     "mark a snapshot (VOL@SNAP) or a volume for collection" },
	{ "unrm",   cmd_unrm,   "undo rm: clear the mark, or restore from the RBD trash" },
	{ "pin",    cmd_pin,    "keep a snapshot whatever marks or policies say" },
	{ "unpin",  cmd_unpin,  "let gc collect a snapshot again once it is marked" },
	{ "gc",     cmd_gc,     "collect what nobody needs, via the RBD trash" },
	{ "explain", cmd_explain, "say why each snapshot and image of a volume is kept or would go" },
	{ "policy", cmd_policy, "check or run a YAML policy: scheduled snapshots, retention" },
	{ "log",    cmd_log,    "list a volume's operations, newest first" },
	{ "check",  cmd_check,  "compare the catalog with the cluster; change nothing" },
	{ "recover", cmd_recover, "finish or undo what an interrupted rowcat left unfinished" },
	{ "catalog", cmd_catalog, "copy the catalog (file or RADOS), or say who holds it" },
	{ "debug",  cmd_debug,  "developer aids: 'debug failpoints' lists the failpoints" },
	/* for the shell's completion; a NULL summary keeps it out of --help */
	{ "complete", cmd_complete, NULL },
	{ NULL, NULL, NULL },
};
