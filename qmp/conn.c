/*
 * The monitor connection: QMP over a UNIX socket, or one `virsh
 * qemu-monitor-command` per command for a VM that libvirt manages.
 *
 * On the socket, every message is one line of JSON. A command carries an
 * "id" of ours and its answer is the message that echoes it: events
 * (STOP, RESUME, BLOCK_JOB_*) and a late answer to an earlier command that
 * timed out are read and dropped. Every wait has the command's deadline;
 * QEMU going away is -ECONNRESET or -EPIPE, never a SIGPIPE (MSG_NOSIGNAL).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* An answer larger than this is no answer of QEMU's to our commands. */
#define QMP_MESSAGE_MAX (64u << 20)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, 0 once it has passed. */
static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left > 0 ? (int)left : 0;
}

const char *qmp_target_kind(const struct qmp *q)
{
	return q->transport == QMP_SOCKET ? "QMP socket" : "domain";
}

static int send_all(struct qmp *q, const char *data, size_t len,
		    int64_t deadline, const char *command, struct rc_error *err)
{
	while (len > 0) {
		ssize_t n = send(q->fd, data, len, MSG_NOSIGNAL);
		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd p = { .fd = q->fd, .events = POLLOUT };
			int ready = poll(&p, 1, remaining_ms(deadline));
			if (ready == 0)
				return rc_error_set(err, -ETIMEDOUT,
						    "QEMU took no %s on %s %s within %d ms",
						    command, qmp_target_kind(q), q->target,
						    q->timeout_ms);
			if (ready < 0 && errno != EINTR)
				return rc_error_set(err, -errno, "waiting on %s %s: %s",
						    qmp_target_kind(q), q->target,
						    strerror(errno));
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return rc_error_set(err, -EPIPE,
					    "QEMU closed %s %s before taking %s (did QEMU exit?)",
					    qmp_target_kind(q), q->target, command);
		return rc_error_set(err, -errno, "sending %s to %s %s: %s",
				    command, qmp_target_kind(q), q->target,
				    strerror(errno));
	}
	return 0;
}

/*
 * Takes one complete line from the input buffer into *msg, parsed; 1 when
 * there was one, 0 when more bytes are needed.
 */
static int take_message(struct qmp *q, json_object **msg, struct rc_error *err)
{
	char *newline;
	size_t line_len;
	json_object *obj;
	enum json_tokener_error jerr;

	while (q->in_len > 0 &&
	       (newline = memchr(q->in, '\n', q->in_len)) != NULL) {
		*newline = '\0';
		line_len = (size_t)(newline - q->in);
		obj = json_tokener_parse_verbose(q->in, &jerr);
		int blank = strspn(q->in, " \t\r") == line_len;
		memmove(q->in, newline + 1, q->in_len - line_len - 1);
		q->in_len -= line_len + 1;
		if (blank)
			continue;
		if (!obj || !json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return rc_error_set(err, -EPROTO,
					    "%s %s sent a line that is no QMP message (%s)",
					    qmp_target_kind(q), q->target,
					    obj ? "not an object" :
					    json_tokener_error_desc(jerr));
		}
		*msg = obj;
		return 1;
	}
	return 0;
}

/*
 * Reads the next message from the socket into *msg (the caller puts it),
 * waiting until deadline. `waiting_for` names what is awaited, for the
 * messages.
 */
static int read_message(struct qmp *q, int64_t deadline, const char *waiting_for,
			json_object **msg, struct rc_error *err)
{
	for (;;) {
		int rc = take_message(q, msg, err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (q->in_cap - q->in_len < 4096) {
			size_t cap = q->in_cap ? q->in_cap * 2 : 65536;
			char *grown;
			if (cap > QMP_MESSAGE_MAX)
				return rc_error_set(err, -EMSGSIZE,
						    "%s %s sent a message over %u MiB while rowcat waited for its %s",
						    qmp_target_kind(q), q->target,
						    QMP_MESSAGE_MAX >> 20, waiting_for);
			grown = realloc(q->in, cap);
			if (!grown)
				return rc_error_set(err, -ENOMEM, "out of memory");
			q->in = grown;
			q->in_cap = cap;
		}
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		int ready = poll(&p, 1, remaining_ms(deadline));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return rc_error_set(err, -errno, "waiting on %s %s: %s",
					    qmp_target_kind(q), q->target,
					    strerror(errno));
		}
		if (ready == 0)
			return rc_error_set(err, -ETIMEDOUT,
					    "QEMU sent no %s on %s %s within %d ms",
					    waiting_for, qmp_target_kind(q), q->target,
					    q->timeout_ms);
		ssize_t n = recv(q->fd, q->in + q->in_len, q->in_cap - q->in_len, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			if (errno == ECONNRESET)
				goto closed;
			return rc_error_set(err, -errno, "reading %s %s: %s",
					    qmp_target_kind(q), q->target,
					    strerror(errno));
		}
		if (n == 0)
			goto closed;
		q->in_len += (size_t)n;
	}
closed:
	return rc_error_set(err, -ECONNRESET,
			    "QEMU closed %s %s while rowcat waited for its %s (did QEMU exit?)",
			    qmp_target_kind(q), q->target, waiting_for);
}

static int socket_roundtrip(struct qmp *q, const char *command,
			    const char *request, const char *id,
			    json_object **reply, struct rc_error *err)
{
	int64_t deadline = now_ms() + q->timeout_ms;
	char waiting_for[96];
	int rc;

	snprintf(waiting_for, sizeof(waiting_for), "answer to %s", command);
	rc = send_all(q, request, strlen(request), deadline, command, err);
	if (rc < 0)
		return rc;
	rc = send_all(q, "\n", 1, deadline, command, err);
	if (rc < 0)
		return rc;
	for (;;) {
		json_object *msg = NULL, *answer_id;
		rc = read_message(q, deadline, waiting_for, &msg, err);
		if (rc < 0)
			return rc;
		/* events, and the late answer of a command that timed out */
		if ((json_object_object_get_ex(msg, "return", NULL) ||
		     json_object_object_get_ex(msg, "error", NULL)) &&
		    json_object_object_get_ex(msg, "id", &answer_id) &&
		    json_object_is_type(answer_id, json_type_string) &&
		    strcmp(json_object_get_string(answer_id), id) == 0) {
			*reply = msg;
			return 0;
		}
		json_object_put(msg);
	}
}

/* Reads a child's two pipes until both end or deadline passes. */
struct pipe_text {
	int fd;
	char *text;
	size_t len, cap;
};

static int drain_pipes(struct pipe_text *pipes, int count, int64_t deadline,
		       struct rc_error *err)
{
	int open = count;
	while (open > 0) {
		struct pollfd p[2];
		int n = 0, ready;
		for (int i = 0; i < count; i++)
			if (pipes[i].fd >= 0)
				p[n++] = (struct pollfd){ .fd = pipes[i].fd, .events = POLLIN };
		ready = poll(p, (nfds_t)n, remaining_ms(deadline));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return rc_error_set(err, -errno, "waiting for virsh: %s",
					    strerror(errno));
		if (ready == 0)
			return -ETIMEDOUT;
		for (int i = 0; i < count; i++) {
			struct pipe_text *pt = &pipes[i];
			ssize_t got;
			if (pt->fd < 0)
				continue;
			if (pt->cap - pt->len < 4096) {
				size_t cap = pt->cap ? pt->cap * 2 : 65536;
				char *grown;
				if (cap > QMP_MESSAGE_MAX)
					return rc_error_set(err, -EMSGSIZE,
							    "virsh wrote over %u MiB",
							    QMP_MESSAGE_MAX >> 20);
				grown = realloc(pt->text, cap);
				if (!grown)
					return rc_error_set(err, -ENOMEM, "out of memory");
				pt->text = grown;
				pt->cap = cap;
			}
			got = read(pt->fd, pt->text + pt->len, pt->cap - pt->len - 1);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				close(pt->fd);
				pt->fd = -1;
				open--;
				continue;
			}
			pt->len += (size_t)got;
			pt->text[pt->len] = '\0';
		}
	}
	return 0;
}

/* The first line of text, without surrounding blanks, for a message. */
static const char *first_line(char *text)
{
	char *end;
	if (!text)
		return "";
	text += strspn(text, " \t\r\n");
	end = text + strcspn(text, "\r\n");
	*end = '\0';
	return text;
}

static int virsh_roundtrip(struct qmp *q, const char *command,
			   const char *request, json_object **reply,
			   struct rc_error *err)
{
	int64_t deadline = now_ms() + q->timeout_ms;
	struct pipe_text pipes[2] = { { .fd = -1 }, { .fd = -1 } };
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	posix_spawn_file_actions_t actions;
	bool actions_made = false;
	char program[] = "virsh", subcommand[] = "qemu-monitor-command";
	char *argv[] = { program, subcommand, q->target, (char *)request, NULL };
	pid_t pid = -1;
	int rc, status;
	enum json_tokener_error jerr;

	if (pipe(out_pipe) < 0 || pipe(err_pipe) < 0) {
		rc = rc_error_set(err, -errno, "running virsh: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(out_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(err_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	rc = posix_spawn_file_actions_init(&actions);
	if (rc != 0) {
		rc = rc_error_set(err, -rc, "running virsh: %s", strerror(rc));
		goto out;
	}
	actions_made = true;
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
	rc = posix_spawnp(&pid, "virsh", &actions, NULL, argv, environ);
	if (rc != 0) {
		pid = -1;
		rc = rc_error_set(err, -rc, "cannot run virsh for domain %s: %s",
				  q->target, rc == ENOENT ?
				  "virsh not found on PATH" : strerror(rc));
		goto out;
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	pipes[0].fd = out_pipe[0];
	pipes[1].fd = err_pipe[0];
	out_pipe[0] = err_pipe[0] = -1;

	rc = drain_pipes(pipes, 2, deadline, err);
	if (rc < 0) {
		kill(pid, SIGKILL);
		if (rc == -ETIMEDOUT)
			rc_error_set(err, -ETIMEDOUT,
				     "virsh qemu-monitor-command %s gave no answer to %s within %d ms",
				     q->target, command, q->timeout_ms);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (rc < 0)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = rc_error_set(err, -EIO, "virsh qemu-monitor-command %s %s failed: %s",
				  q->target, command, first_line(pipes[1].text));
		goto out;
	}
	*reply = json_tokener_parse_verbose(pipes[0].text ? pipes[0].text : "",
					    &jerr);
	if (!*reply || !json_object_is_type(*reply, json_type_object)) {
		json_object_put(*reply);
		*reply = NULL;
		rc = rc_error_set(err, -EPROTO,
				  "virsh qemu-monitor-command %s %s printed no QMP answer: %s",
				  q->target, command, first_line(pipes[0].text));
		goto out;
	}
	rc = 0;
out:
	if (actions_made)
		posix_spawn_file_actions_destroy(&actions);
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
		if (pipes[i].fd >= 0)
			close(pipes[i].fd);
		free(pipes[i].text);
	}
	return rc;
}

/* A QMP error answer as rowcat's error: the command, QEMU's desc and class. */
static int refusal(const char *command, json_object *error, struct rc_error *err)
{
	json_object *cls = NULL, *desc = NULL;
	const char *cls_text;

	json_object_object_get_ex(error, "class", &cls);
	json_object_object_get_ex(error, "desc", &desc);
	cls_text = cls ? json_object_get_string(cls) : "no class";
	return rc_error_set(err, strcmp(cls_text, "CommandNotFound") == 0 ?
			    -ENOTSUP : -EIO, "QEMU refused %s: %s (%s)", command,
			    desc ? json_object_get_string(desc) : "no description",
			    cls_text);
}

int qmp_execute(struct qmp *q, const char *command, json_object *arguments,
		json_object **ret, struct rc_error *err)
{
	json_object *request = json_object_new_object(), *reply = NULL, *value;
	char id[32];
	int rc;

	if (ret)
		*ret = NULL;
	if (!request)
		return rc_error_set(err, -ENOMEM, "out of memory");
	json_object_object_add(request, "execute", json_object_new_string(command));
	if (arguments)
		json_object_object_add(request, "arguments", json_object_get(arguments));
	if (q->transport == QMP_SOCKET) {
		/* libvirt gives its own ids to what virsh passes on */
		snprintf(id, sizeof(id), "rowcat-%lu", ++q->next_id);
		json_object_object_add(request, "id", json_object_new_string(id));
	}
	const char *text = json_object_to_json_string_ext(request,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (q->transport == QMP_SOCKET)
		rc = socket_roundtrip(q, command, text, id, &reply, err);
	else
		rc = virsh_roundtrip(q, command, text, &reply, err);
	if (rc < 0)
		goto out;
	if (json_object_object_get_ex(reply, "error", &value)) {
		rc = refusal(command, value, err);
		goto out;
	}
	if (!json_object_object_get_ex(reply, "return", &value)) {
		rc = rc_error_set(err, -EPROTO, "QEMU's answer to %s holds no return",
				  command);
		goto out;
	}
	if (ret)
		*ret = json_object_get(value);
	rc = 0;
out:
	json_object_put(reply);
	json_object_put(request);
	return rc;
}

int qmp_execute_text(struct qmp *q, const char *command,
		     const char *arguments_json, char **answer,
		     struct rc_error *err)
{
	json_object *arguments = NULL, *ret = NULL;
	int rc;

	if (answer)
		*answer = NULL;
	if (arguments_json) {
		arguments = json_tokener_parse(arguments_json);
		if (!arguments || !json_object_is_type(arguments, json_type_object)) {
			rc = rc_error_usage(err, "arguments of %s are no JSON object: %s",
					    command, arguments_json);
			goto out;
		}
	}
	rc = qmp_execute(q, command, arguments, &ret, err);
	if (rc < 0 || !answer)
		goto out;
	*answer = strdup(json_object_to_json_string_ext(ret,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!*answer)
		rc = rc_error_set(err, -ENOMEM, "out of memory");
out:
	json_object_put(ret);
	json_object_put(arguments);
	return rc;
}

static int socket_connect(struct qmp *q, struct rc_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + q->timeout_ms;
	json_object *greeting = NULL;
	int rc;

	if (strlen(q->target) >= sizeof(addr.sun_path))
		return rc_error_set(err, -ENAMETOOLONG,
				    "QMP socket path is longer than %zu bytes: %s",
				    sizeof(addr.sun_path) - 1, q->target);
	strcpy(addr.sun_path, q->target);
	q->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (q->fd < 0 || fcntl(q->fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(q->fd, F_SETFL, O_NONBLOCK) < 0)
		return rc_error_set(err, -errno, "socket: %s", strerror(errno));
	while (connect(q->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return rc_error_set(err, -ETIMEDOUT,
					    "QMP socket %s takes no more connections (its backlog is full)",
					    q->target);
		rc = -errno;
		return rc_error_set(err, rc, "cannot connect to QMP socket %s: %s%s",
				    q->target, strerror(-rc),
				    rc == -ECONNREFUSED ? " (is QEMU running?)" : "");
	}
	rc = read_message(q, deadline, "greeting", &greeting, err);
	if (rc == -ETIMEDOUT)
		return rc_error_set(err, rc,
				    "QEMU sent no greeting on QMP socket %s within %d ms: "
				    "QEMU serves one monitor client at a time; is another "
				    "(libvirt, a second rowcat) connected?",
				    q->target, q->timeout_ms);
	if (rc < 0)
		return rc;
	bool is_greeting = json_object_object_get_ex(greeting, "QMP", NULL);
	json_object_put(greeting);
	if (!is_greeting)
		return rc_error_set(err, -EPROTO,
				    "%s does not greet as QEMU's monitor does (is it a QMP socket?)",
				    q->target);
	return qmp_execute(q, "qmp_capabilities", NULL, NULL, err);
}

int qmp_open(const char *where, int timeout_ms, struct qmp **out,
	     struct rc_error *err)
{
	struct qmp *q;
	const char *target = where;
	int rc;

	*out = NULL;
	if (timeout_ms <= 0)
		return rc_error_usage(err, "QMP timeout must be positive: %d ms",
				      timeout_ms);
	q = calloc(1, sizeof(*q));
	if (!q)
		return rc_error_set(err, -ENOMEM, "out of memory");
	q->fd = -1;
	q->timeout_ms = timeout_ms;
	q->transport = QMP_SOCKET;
	if (strncmp(where, "virsh:", 6) == 0) {
		q->transport = QMP_VIRSH;
		target = where + 6;
	} else if (strncmp(where, "unix:", 5) == 0) {
		target = where + 5;
	}
	if (!*target) {
		rc = rc_error_usage(err, "QMP monitor '%s' names no %s", where,
				    q->transport == QMP_VIRSH ? "domain" : "socket");
		goto out;
	}
	q->target = strdup(target);
	if (!q->target) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (q->transport == QMP_SOCKET) {
		rc = socket_connect(q, err);
	} else {
		bool running;
		char status[32];
		rc = qmp_query_status(q, &running, status, err);
	}
out:
	if (rc < 0) {
		qmp_close(q);
		return rc;
	}
	*out = q;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->target);
	free(q->in);
	free(q);
}

int qmp_stop(struct qmp *q, struct rc_error *err)
{
	return qmp_execute(q, "stop", NULL, NULL, err);
}

int qmp_cont(struct qmp *q, struct rc_error *err)
{
	return qmp_execute(q, "cont", NULL, NULL, err);
}

int qmp_query_status(struct qmp *q, bool *running, char status[32],
		     struct rc_error *err)
{
	json_object *ret = NULL, *field;
	int rc = qmp_execute(q, "query-status", NULL, &ret, err);

	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(ret, "running", &field) ||
	    !json_object_is_type(field, json_type_boolean)) {
		rc = rc_error_set(err, -EPROTO,
				  "QEMU's answer to query-status says nothing of running");
		goto out;
	}
	*running = json_object_get_boolean(field);
	status[0] = '\0';
	if (json_object_object_get_ex(ret, "status", &field))
		snprintf(status, 32, "%s", json_object_get_string(field));
out:
	json_object_put(ret);
	return rc;
}
