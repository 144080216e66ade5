/* rowcat consumer: where the QEMU running on a volume can be reached. */
#include <stdio.h>

#include "cli.h"
#include "rowcat/qmp.h"

int cmd_consumer(struct cli_ctx *ctx, int argc, char **argv)
{
	bool clear = false;
	struct cli_option options[] = {
		{ 0, "clear", CLI_OPT_FLAG, &clear, NULL,
		  "forget the recorded consumer" },
		CLI_OPT_END };
	struct cli_spec spec = {
		"consumer VOL [SOCKET|virsh:DOMAIN]",
		"Records where the QEMU whose guest disk is VOL's operating image\n"
		"can be reached: its QMP socket (unix:PATH or PATH), or a libvirt\n"
		"domain (virsh:DOMAIN, through 'virsh qemu-monitor-command'). Every\n"
		"later snap of VOL, and policy runs, then switch that guest to the\n"
		"new clone. Without an address, prints the recorded one ('none').",
		options, 1, 2,
	};
	struct catalog_volume volume;
	char where[QMP_WHERE_MAX] = "";
	int rc, args;

	args = cli_parse(ctx, &spec, argc, argv);
	if (args < 0 || ctx->help_shown)
		return args;
	if (args == 2 && clear)
		return rc_error_usage(&ctx->err, "give an address or --clear, "
				      "not both");
	if (args == 2 && (rc = qmp_where_normalize(argv[2], where, &ctx->err)) < 0) {
		ctx->err.usage = true;
		return rc;
	}
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc < 0)
		return rc;
	if (args == 1 && !clear) {
		printf("%s\n", volume.consumer[0] ? volume.consumer : "none");
		return 0;
	}
	return catalog_volume_set_consumer(ctx->catalog, volume.id, where,
					   &ctx->err);
}
