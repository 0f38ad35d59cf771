/*
 * log.h - what e2e-server writes: the only module of lib/server that
 * prints.
 *
 * The server's output is not a library speaking. On stderr: the request
 * log (one line a request, none with --quiet), the lines of its start-up
 * and shutdown, and the failures it meets while serving (the database's,
 * the HTTP library's), each as err_error, err_warn or err_note prints it
 * (base/err.h). On stdout: the port it listens on, and --check-names'
 * groups. Every other module reports through struct report
 * (base/report.h), which its caller hands to log_report(), or, for a
 * failure met while serving with no caller to tell, says it here.
 */
#ifndef E2E_SERVER_LOG_H
#define E2E_SERVER_LOG_H

#include <stddef.h>

#include "base/report.h"

/* One request done: "ADDR METHOD PATH STATUS MS.Xms" (path already
 * escaped, without its query). */
void log_request(const char *addr, const char *method, const char *path,
    unsigned status, double ms);

/* Prints r's lines (err_print); returns r's code. */
int log_report(const struct report *r);

/* A line of the server's own: an error, an error with strerror(errno),
 * a warning, a note. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The port listened on, one line on stdout, flushed. */
void log_port(unsigned port);

/* One --check-names group on stdout: the names separated by spaces.
 * Returns 0, or -1 when stdout cannot be written. */
int log_names(const char *const *names, size_t n);

/* Flushes stdout: 0, or -1 (errno set) when it cannot be written. */
int log_flush(void);

#endif
