/*
 * bench/mhd_bare.c - the ceiling of libmicrohttpd itself, for
 * bench/server.sh: a server with e2e-server's daemon flags and options
 * (lib/server/httpd.c) that answers every request, a POST /messages
 * too, with a fixed 36-byte JSON body (the size of nginx's file and of
 * a send's answer), and nothing else.
 *
 *   mhd_bare THREADS [handoff]
 *
 * Listens on 127.0.0.1, an ephemeral port, printed on stdout. With
 * "handoff", each request is suspended and handed to one other thread,
 * which resumes it (as e2e-server hands a send to its writer and
 * resumes it after the commit), without any work in between: the cost
 * of the handoff alone. Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"id\":\"06H29NTRH8JRGGHXJY8VZQTPKD\"}\n";

static struct MHD_Response *resp;
static int handoff;

/* The handoff: suspended connections, resumed by one thread. */
struct req {
	struct MHD_Connection *conn;
	int state;		/* 0 new, 1 suspended, 2 resumed */
	struct req *next;
};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct req *queue;

static void *
resumer(void *arg)
{
	struct req *r, *batch;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (queue == NULL)
			pthread_cond_wait(&more, &lock);
		batch = queue;
		queue = NULL;
		pthread_mutex_unlock(&lock);
		while ((r = batch) != NULL) {
			batch = r->next;
			r->state = 2;
			MHD_resume_connection(r->conn);
		}
	}
	return NULL;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->conn = conn;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {		/* the body: read and dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (handoff && r->state == 0) {
		r->state = 1;
		MHD_suspend_connection(conn);
		pthread_mutex_lock(&lock);
		r->next = queue;
		queue = r;
		pthread_cond_signal(&more);
		pthread_mutex_unlock(&lock);
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	pthread_t t;
	sigset_t set;
	int sig;
	unsigned threads;
	char *end;
	long n;

	if (argc < 2 || (n = strtol(argv[1], &end, 10)) < 1 || n > 64 ||
	    *end != '\0') {
		fprintf(stderr, "usage: mhd_bare THREADS [handoff]\n");
		return 2;
	}
	threads = (unsigned)n;
	handoff = argc > 2 && strcmp(argv[2], "handoff") == 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	resp = MHD_create_response_from_buffer(sizeof(body) - 1,
	    (void *)body, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL ||
	    MHD_add_response_header(resp, "Content-Type",
	    "application/json") != MHD_YES)
		return 1;
	if (handoff && pthread_create(&t, NULL, resumer, NULL) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	/* e2e-server's flags and options (httpd.c), its defaults. */
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, 20000u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd_bare: cannot start the daemon\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL)
		return 1;
	printf("%u\n", (unsigned)info->port);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(resp);
	return 0;
}
