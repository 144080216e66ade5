/* rowcat consumer: where the QEMU running on a volume can be reached. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/host.h"
#include "rowcat/qmp.h"

int cmd_consumer(struct cli_ctx *ctx, int argc, char **argv)
{
	bool clear = false;
	struct cli_option options[] = {
		{ 0, "clear", CLI_OPT_FLAG, &clear, NULL,
		  "forget the recorded consumer" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END };
	struct cli_spec spec = {
		"consumer VOL [SOCKET|virsh:DOMAIN] [--format plain|json]",
		"Records where the QEMU whose guest disk is VOL's operating image\n"
		"can be reached: its QMP socket (unix:PATH or PATH), or a libvirt\n"
		"domain (virsh:DOMAIN, through 'virsh qemu-monitor-command'), and\n"
		"that it runs on this host ($ROWCAT_HOST, else the host name): run\n"
		"it where the QEMU runs. Every later snap of VOL on this host, and\n"
		"this host's policy runs, then switch that guest to the new clone;\n"
		"on other hosts sharing the catalog, snap and policy run leave VOL\n"
		"to this one. Without an address, prints the recorded one and its\n"
		"host ('ADDRESS on host HOST', or 'none'; JSON: consumer and host,\n"
		"null for none; a consumer recorded before hosts were has host\n"
		"null, and counts as every host's own).",
		options, 1, 2,
	};
	struct catalog_volume volume;
	struct json_object *obj;
	char where[QMP_WHERE_MAX] = "";
	char host[RC_HOST_MAX];
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
	if (args == 1 && !clear && ctx->format == FORMAT_JSON) {
		obj = json_object_new_object();
		if (!obj)
			return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		json_object_object_add(obj, "volume", cli_json_string(volume.name));
		json_object_object_add(obj, "consumer",
				       cli_json_nonempty(volume.consumer));
		json_object_object_add(obj, "host", volume.consumer[0]
				       ? cli_json_nonempty(volume.consumer_host)
				       : NULL);
		rc = cli_json_print(ctx, obj);
		json_object_put(obj);
		return rc;
	}
	if (args == 1 && !clear && volume.consumer[0] &&
	    volume.consumer_host[0]) {
		printf("%s on host %s\n", volume.consumer, volume.consumer_host);
		return 0;
	}
	if (args == 1 && !clear) {
		printf("%s\n", volume.consumer[0] ? volume.consumer : "none");
		return 0;
	}
	rc_host_name(host);
	return catalog_volume_set_consumer(ctx->catalog, volume.id, where, host,
					   &ctx->err);
}
