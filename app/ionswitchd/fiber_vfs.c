/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFS fiber: serves files under its root to whoever holds the other
 * ends of its rings (the membrane), by the protocol of lib/membrane
 * (docs/vfs-protocol.md).  Its own CSpace holds only those two rings; the
 * root is opened once at start, and openat2(RESOLVE_BENEATH) keeps every
 * request inside it.
 */
#include <errno.h>
#include <stdlib.h>

#include "fiber.h"
#include "fiber_kinds.h"

int
fiber_vfs_init(struct fiber *f, const struct cfg_fiber *fc)
{
	struct membrane_vfs *v = calloc(1, sizeof(*v));
	int rc;

	if (v == NULL)
		return -ENOMEM;
	rc = membrane_vfs_init(v, fc->root);
	if (rc < 0) {
		free(v);
		return rc;
	}
	f->priv = v;
	return 0;
}

int
fiber_vfs_step(struct fiber *f)
{
	struct ion_cons *req = fiber_rx_end(f);
	struct ion_prod *rsp = fiber_tx_end(f);
	int n;

	if (req == NULL || rsp == NULL)
		return -EACCES;
	n = membrane_vfs_step(f->priv, req, rsp, f->burst);
	if (n > 0)
		/* relaxed: own counter, readers need only no tearing */
		__atomic_store_n(&f->st.frames, f->st.frames + (unsigned)n,
				 __ATOMIC_RELAXED);
	return n;
}

void
fiber_vfs_fini(struct fiber *f)
{
	if (f->kind != CFG_FIBER_VFS || f->priv == NULL)
		return;
	membrane_vfs_fini(f->priv);
	free(f->priv);
	f->priv = NULL;
}
