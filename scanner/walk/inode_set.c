/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A thread-safe set of (device, inode) pairs.  The walker uses it so a
 * directory reached by two paths (bind mounts, followed symlinks) is listed
 * once; callers use it so a file with several hard links is scanned once.
 *
 * The set is split into shards chosen by the key's hash, each an open
 * addressing table with its own mutex, so workers inserting at the same time
 * rarely wait for each other.  Tables double when half full, up to a ceiling.
 */
#include "walk/walk.h"
#include "walk/walk_internal.h"

#include <pthread.h>
#include <stdlib.h>

#include "speurneus/error.h"

#define SHARD_BITS 4
#define NSHARDS (1u << SHARD_BITS)
#define SHARD_INITIAL 64

struct slot {
	uint64_t dev, ino;
	unsigned char used;
};

struct shard {
	pthread_mutex_t mu;
	struct slot *tab;
	size_t cap, n; /* cap is a power of two */
};

struct sn_inode_set {
	struct shard shard[NSHARDS];
	size_t ninit; /* shards whose mutex was initialised */
};

static uint64_t hash_key(uint64_t dev, uint64_t ino)
{
	/* splitmix64 finaliser: inode numbers are dense, the table needs the
	 * high and low bits mixed. */
	uint64_t x = ino ^ (dev * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

int sn_inode_set_new(sn_inode_set **out)
{
	sn_inode_set *s;
	int rc = 0;

	if (!out)
		return sn_error_set(SN_EINVAL, "sn_inode_set_new: out is NULL");
	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return sn_error_set(SN_ENOMEM, "out of memory for the inode set");
	for (s->ninit = 0; s->ninit < NSHARDS; s->ninit++) {
		struct shard *sh = &s->shard[s->ninit];

		if (pthread_mutex_init(&sh->mu, NULL) != 0) {
			rc = sn_error_set(SN_ENOMEM, "cannot create a mutex");
			goto done;
		}
		sh->tab = calloc(SHARD_INITIAL, sizeof *sh->tab);
		if (!sh->tab) {
			s->ninit++;
			rc = sn_error_set(SN_ENOMEM, "out of memory for the inode set");
			goto done;
		}
		sh->cap = SHARD_INITIAL;
	}
	*out = s;
	s = NULL;
done:
	sn_inode_set_free(s);
	return rc;
}

void sn_inode_set_free(sn_inode_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ninit; i++) {
		pthread_mutex_destroy(&s->shard[i].mu);
		free(s->shard[i].tab);
	}
	free(s);
}

static struct slot *find_slot(struct slot *tab, size_t cap, uint64_t h, uint64_t dev, uint64_t ino)
{
	size_t i = (size_t)h & (cap - 1);

	while (tab[i].used && (tab[i].dev != dev || tab[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int grow(struct shard *sh)
{
	size_t cap = sh->cap * 2, i;
	struct slot *tab;

	if (cap > SN_INODE_SET_MAX / NSHARDS)
		return sn_error_set(SN_ELIMIT, "inode set full (%zu entries)", sh->n * NSHARDS);
	tab = calloc(cap, sizeof *tab);
	if (!tab)
		return sn_error_set(SN_ENOMEM, "out of memory for the inode set");
	for (i = 0; i < sh->cap; i++) {
		const struct slot *o = &sh->tab[i];

		if (o->used)
			*find_slot(tab, cap, hash_key(o->dev, o->ino), o->dev, o->ino) = *o;
	}
	free(sh->tab);
	sh->tab = tab;
	sh->cap = cap;
	return 0;
}

int sn_inode_set_insert(sn_inode_set *s, dev_t dev, ino_t ino)
{
	uint64_t d = (uint64_t)dev, n = (uint64_t)ino;
	uint64_t h = hash_key(d, n);
	struct shard *sh;
	struct slot *sl;
	int rc;

	if (!s)
		return sn_error_set(SN_EINVAL, "sn_inode_set_insert: set is NULL");
	/* The top bits pick the shard, the low bits the slot inside it. */
	sh = &s->shard[h >> (64 - SHARD_BITS)];
	pthread_mutex_lock(&sh->mu);
	sl = find_slot(sh->tab, sh->cap, h, d, n);
	if (sl->used) {
		rc = 0;
		goto done;
	}
	if ((sh->n + 1) * 2 > sh->cap) {
		rc = grow(sh);
		if (rc < 0)
			goto done;
		sl = find_slot(sh->tab, sh->cap, h, d, n);
	}
	sl->dev = d;
	sl->ino = n;
	sl->used = 1;
	sh->n++;
	rc = 1;
done:
	pthread_mutex_unlock(&sh->mu);
	return rc;
}
