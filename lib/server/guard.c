/* guard.c - the limits of accounts, addresses and mailboxes (see
 * guard.h). */
#include "server/guard.h"
#include "base/err.h"
#include "format/crypto.h"
#include "server/log.h"

#include <string.h>

/* Keys each table remembers (about 100 bytes each, 2x for the slots). */
#define KEYS_MAX 100000

static void
count_hash(void *arg, const char *hash)
{
	auth_costs_count(arg, hash, +1);
}

int
guard_start(struct server *s, struct report *rep)
{
	const struct server_config *c = &s->cfg;
	unsigned per_addr;

	auth_costs_init(&s->costs);
	s->signin_pairs = throttle_new_backoff(c->signin_name_limit,
	    c->signin_backoff, c->limit_window, KEYS_MAX);
	s->signin_addrs = throttle_new(c->signin_addr_limit, c->limit_window,
	    KEYS_MAX);
	s->signup_addrs = throttle_new(c->signup_addr_limit, c->limit_window,
	    KEYS_MAX);
	s->send_rates = rate_new(c->send_rate, c->send_burst, KEYS_MAX);
	s->signin_account_rates = rate_new(c->signin_account_rate / 3600.0,
	    c->signin_account_rate, KEYS_MAX);
	s->signin_addr_rates = rate_new(c->signin_addr_rate / 3600.0,
	    c->signin_addr_rate, KEYS_MAX);
	/* One address may fill a quarter of the queue, so that others still
	 * find room; its jobs take their turns with everyone else's. */
	per_addr = c->signin_queue / 4 > 0 ? c->signin_queue / 4 : 1;
	s->slow = workers_start(c->bcrypt_workers, c->signin_queue, per_addr,
	    rep);
	if (s->signin_pairs == NULL || s->signin_addrs == NULL ||
	    s->signup_addrs == NULL || s->send_rates == NULL ||
	    s->signin_account_rates == NULL || s->signin_addr_rates == NULL ||
	    s->slow == NULL) {
		return report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the server: out of memory");
	}
	/* The costs of the stored hashes: a failed sign-in is padded to the
	 * highest (A10). */
	if (s->store.be->user_hashes(&s->store, count_hash, &s->costs) !=
	    STORE_OK)
		return E2E_EX_SOFTWARE;
	return 0;
}

void
guard_stop(struct server *s)
{
	throttle_free(s->signin_pairs);
	throttle_free(s->signin_addrs);
	throttle_free(s->signup_addrs);
	rate_free(s->send_rates);
	rate_free(s->signin_account_rates);
	rate_free(s->signin_addr_rates);
	auth_costs_destroy(&s->costs);
}

int
guard_pair_key(const char *name, const char *addr, char out[48])
{
	static const char label[] = "e2e-chat sign-in name and address";
	static const char hex[] = "0123456789abcdef";
	uint8_t in[STORE_NAME_MAX + 1 + 128], mac[EVP_MAX_MD_SIZE];
	size_t n = strlen(name), m = strlen(addr), mac_len = 0, i;

	/* name NUL addr: a name holds no NUL, so no two pairs meet. */
	if (n > STORE_NAME_MAX)
		n = STORE_NAME_MAX;
	if (m > 128)
		m = 128;
	memcpy(in, name, n);
	in[n] = '\0';
	memcpy(in + n + 1, addr, m);
	{
		struct report rep = { 0 };	/* said in the log */
		int h = crypto_hmac("SHA256", (const uint8_t *)label,
		    sizeof(label) - 1, in, n + 1 + m, mac, &mac_len, &rep);

		log_report(&rep);
		if (h != 0 || mac_len < 20)
			return -1;
	}
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[40] = '\0';
	return 0;
}
