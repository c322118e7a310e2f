/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfs: serves the files under `root` to whoever holds the other ends of
 * its rings (the membrane), by the protocol of lib/membrane
 * (docs/vfs-protocol.md): requests on rx, answers on tx.  Its own CSpace
 * holds only those two rings; the root is opened once at start, and
 * openat2(RESOLVE_BENEATH) keeps every request inside it.
 */
#include <errno.h>
#include <stdlib.h>

#include <membrane_vfs.h>

#include "fiber_impl.h"

struct vfs_kind_params {
	char root[FIBER_PATH_LEN];
};

static const struct fiber_param vfs_params[] = {
	{"root", FIBER_P_PATH, offsetof(struct vfs_kind_params, root), 0, 0,
	 NULL,
	 "the directory it serves (it must exist when the daemon starts)"},
};

#define V(f, h) CTR(struct membrane_vfs_stats, f, h)
static const struct ctr_desc vfs_ctrs[] = {
	V(requests, "requests taken off the request ring"),
	V(opens, "OPENs that returned a handle"),
	V(reads, "READs answered"),
	V(bytes, "file bytes sent"),
	V(closes, "handles closed by CLOSE"),
	V(refused, "paths that tried to leave the root"),
	V(not_found, "OPEN: no such file"),
	V(denied, "OPEN: not a regular file, no index, or no permission"),
	V(emfile, "OPEN: handle table or fd limit full"),
	V(bad_handle, "READ or CLOSE of an unknown or stale handle"),
	V(bad_requests, "malformed requests"),
	V(errors, "I/O errors and other failures"),
	V(deferred, "steps that stopped for lack of response slots"),
	V(cache_hits, "OPENs answered with a file kept open since its last "
		      "CLOSE (the path still names that file, unchanged)"),
	CTR_G(struct membrane_vfs_stats, open_files, "handles open now"),
};
#undef V

static const struct ctr_set vfs_ctr_set = CTR_SET("vfs", vfs_ctrs, "vfs fiber");

static int
vfs_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	const struct vfs_kind_params *p = params;
	struct membrane_vfs *v = calloc(1, sizeof(*v));
	int rc;

	(void)env;
	if (v == NULL)
		return -ENOMEM;
	rc = membrane_vfs_init(v, p->root);
	if (rc < 0) {
		FIBER_LOG(ERR, "%s: root %s: %s\n", f->name, p->root,
			  strerror(-rc));
		free(v);
		return rc;
	}
	f->priv = v;
	return 0;
}

static int
vfs_step(struct fiber *f)
{
	struct ion_cons *req = fiber_cons(f, FIBER_RX);
	struct ion_prod *rsp = fiber_prod(f, FIBER_TX);
	int n;

	if (req == NULL || rsp == NULL)
		return -EACCES;
	n = membrane_vfs_step(f->priv, req, rsp, f->burst);
	if (n > 0)
		FIBER_STAT_ADD(f, frames, (unsigned int)n);
	return n;
}

static void
vfs_fini(struct fiber *f)
{
	if (f->priv == NULL)
		return;
	membrane_vfs_fini(f->priv);
	free(f->priv);
	f->priv = NULL;
}

static void
vfs_stats(const struct fiber *f, void *out)
{
	if (f->priv != NULL)
		membrane_vfs_get_stats(f->priv, out);
	else
		memset(out, 0, sizeof(struct membrane_vfs_stats));
}

const struct fiber_kind fiber_kind_vfs = {
	.name = "vfs",
	.help = "Serves the files under root: rx the VFS request ring, tx "
		"the response ring",
	.params = vfs_params,
	.n_params = RTE_DIM(vfs_params),
	.params_size = sizeof(struct vfs_kind_params),
	.needs_tx = true,
	.init = vfs_init,
	.step = vfs_step,
	.fini = vfs_fini,
	.counters = &vfs_ctr_set,
	.stats = vfs_stats,
};
