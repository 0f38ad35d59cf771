/*
 * jwsfile.h - the inner JWS of a signed message decrypted from a file to
 * a file (docs/FORMAT.md section 6.1): the compact JWS lies in the
 * output's temporary file, where it is parsed, hashed and its payload
 * decoded in place, in pieces, so that a message of any size is checked
 * in a few MiB. The caller (message.c) checks the claims and the
 * signature as for a JWS held whole (jws.h) and commits the file only
 * then.
 */
#ifndef E2E_JWSFILE_H
#define E2E_JWSFILE_H

#include <stdint.h>

#include "base/fileio.h"
#include "base/report.h"
#include "format/jws.h"

struct jws_file {
	struct jws j;		/* header and signature; j.hashed, no text */
	uint64_t pt_len;	/* the decoded payload, at offset 0 */
	int payload_bad;	/* the payload is not strict base64url */
};

/*
 * Reads the compact JWS of len bytes at the start of out's temporary
 * file: jws_parse's checks in its order (a refusal is 65 with its reason
 * in rep, in jws_parse's words), the signing input hashed into jf->j
 * (jws_verify checks that digest), and the payload decoded to the
 * start of the file, where it is jf->pt_len bytes followed by what is
 * left of the JWS (the caller cuts the file once everything checked). A
 * payload that is not base64url is not refused here but said in
 * jf->payload_bad, so that the caller refuses it where jws_parse's
 * reader does, after the signature. Returns 0, 65, or the exit code of a
 * read, write or internal error (in rep). jws_file_free frees jf.
 */
int jws_file_open(struct outfile *out, uint64_t len, struct jws_file *jf,
    struct report *rep);
void jws_file_free(struct jws_file *jf);

#endif
