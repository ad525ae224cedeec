"""The projected pass: forward and backward passes of random dense networks that never draw a
weight matrix -- only the projections of each fresh W that the passes read.  Exact in law.

Why it is exact
---------------
Take one Dense with input H (n_in x T, one column per input) and a fresh weight W (n_out x n_in,
W_ij ~ N(0, v / n_in) i.i.d., drawn after -- independent of -- everything upstream).  Let
H = Q R be a thin QR factorisation: Q (n_in x k) has orthonormal columns spanning (at least) the
column space of H, k = min(n_in, T), R (k x T).  Q depends only on the upstream network.

* Forward.  Z = W H = (W Q) R.  Because Q has orthonormal columns and W has i.i.d. N(0, v/n_in)
  entries, Omega = W Q (n_out x k) has i.i.d. N(0, v/n_in) entries given the upstream network:
  draw Omega and set Z = Omega R.  (Each row of Z is then N(0, (v/n_in) R^T R) = N(0, (v/n_in)
  H^T H), the law the Gram sampler of :mod:`.simulate` uses.)  In the brief's notation
  W P_H = Z H^+ whenever H has full column rank; with Q we never form H^+ and never divide by a
  small singular value.
* The rest of W.  Complete Q to an orthonormal basis [Q, Q_perp] of R^n_in.  Psi = W Q_perp is
  independent of Omega (orthogonal projections of an isotropic Gaussian matrix), and W = Omega
  Q^T + Psi Q_perp^T.  Every later forward value reads W only through Z (W is used once
  forward), so Psi is independent of the whole forward pass and of every other layer's
  Omega and Psi.
* Backward.  The cotangent G at Z (n_out x T per functional) is built from the forward values
  and from the layers above only (their Omega and Psi), never from this W's Psi, so

      W^T G = Q (Omega^T G) + Q_perp Psi^T G.

  Given G, the rows of Psi^T G are i.i.d. N(0, (v/n_in) G^T G); equivalently Q_perp Psi^T G =
  (I - Q Q^T) E with E (n_in x T) of i.i.d. rows N(0, (v/n_in) G^T G) independent of the rest
  (Q_perp^T E has exactly the law of Psi^T G, and Q_perp Q_perp^T = I - Q Q^T).  E is drawn as
  Xi R_G, where G = Q_G R_G (thin QR, so R_G^T R_G = G^T G) and Xi (n_in x k_G) has i.i.d.
  N(0, v/n_in) entries.  The Dense's W^T G is therefore drawn jointly with everything else, with
  exactly the law of the dense network.  Cost per Dense O(N T^2) time and O(N T) memory
  (Q, Omega and the input H are kept for the backward pass) instead of O(N^2 T) and O(N^2).

Rank deficiency.  If T >= n_in, Q is square: W = Omega Q^T is drawn whole (as an n_out x n_in
matrix, which is then no bigger than H) and there is no second term.  If H is rank-deficient
(rank r < k: repeated inputs, a layer of dead units), Householder QR still returns k orthonormal
columns spanning a space that contains col(H); the k - r extra directions are simply drawn as
part of Omega instead of as part of Psi -- still exact, since any orthonormal Q that depends only
on the upstream network will do.  Nothing is inverted.

Several functionals (R > 1).  With mini-batch BN the backward pass carries R = T cotangents at
once (the Jacobian of all outputs); W^T acts on each n_out x T slice with the same W, so the
formula holds for the n_out x (R T) matrix of all functional columns together: G^T G becomes
the (R T) x (R T) Gram of those columns.  When R T > n_out, E = Gamma G with Gamma a fresh
n_in x n_out Gaussian drawn in row blocks (no cheaper exact factor exists: the cost is then that
of the dense backward, O(n_in n_out R T), with memory O(n_in (R T)) plus one block).

Residual blocks.  Each W is still used once forward and once backward (the skip adds its
cotangent outside the branch), so nothing changes.  Population BN is a fixed scaling and batch
BN is differentiated through its statistics by the block's own rule; neither touches a weight.
The readout v (N_L numbers) is drawn explicitly: it is not a matrix.

Conventions and randomness.  Values are (S, N, T) as in :mod:`.network`; network s draws only
from ``rngs[s]``.  Per network the draws come in pass order: every Omega in forward (network)
order, then whatever the caller draws between the passes (the readout), then every E in backward
order.  A projected pass is single-use: each Dense is pulled back at most once (a second
backward pass would need the same Psi again, which is not kept); a second pull-back raises.
The sample differs from the dense sampler's for the same seed (other draws), its law does not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import AnglefishError
from .network import Pass, Weights, standard_normals

#: with more functional columns than output units, E = Gamma G is formed in row blocks of Gamma
#: holding at most this many bytes
GAMMA_BLOCK_BYTES = 64 * 2**20


@dataclass
class LazyWeights(Weights):
    """The shape of ``networks`` networks whose weights are never drawn whole.

    ``weights`` stays empty; ``owners`` (0-based repeated-block index of each Dense, in network
    order) and ``fans`` ((n_out, n_in) of each Dense) are filled by the forward pass."""

    networks: int = 1
    fans: list = field(default_factory=list)

    @property
    def seeds(self) -> int:
        return self.networks

    def n_params(self, blocks) -> int:
        """Weights of the Denses owned by the repeated blocks ``blocks`` (after a forward pass)."""
        return int(sum(n_out * n_in for (n_out, n_in), o in zip(self.fans, self.owners) if o in blocks))


def lazy_weights(arch, depth: int, width: int, in_dim: int, networks: int) -> LazyWeights:
    """The LazyWeights of ``networks`` networks: ``depth`` blocks of ``arch`` (name or object)."""
    from ..theory.architectures import get_architecture

    return LazyWeights(get_architecture(arch), depth, width, in_dim, [], [], networks=networks)


@dataclass
class ProjectedPass(Pass):
    """A forward-then-backward pass that draws, per Dense, Omega = W Q forward and the
    component of W^T G outside the input's span backward (module docstring).

    ``rngs``: one generator per network; ``dtype``: of the draws.  The two draws are the methods
    :meth:`forward_projection` and :meth:`orthogonal_draw`; everything else is deterministic
    algebra, so a subclass that replays explicit weights through them reproduces the dense pass
    (the tests do this)."""

    rngs: list = field(default_factory=list)
    dtype: type = np.float64
    pulled: set = field(default_factory=set)

    def __post_init__(self):
        if not isinstance(self.weights, LazyWeights):
            raise AnglefishError("internal: a projected pass needs LazyWeights (no explicit weights)")
        if len(self.rngs) != self.weights.networks:
            raise AnglefishError(f"internal: {len(self.rngs)} generators for {self.weights.networks} networks")

    # ---- the two draws
    def forward_projection(self, index: int, q: np.ndarray, n_out: int, scale: float) -> np.ndarray:
        """Omega = W Q (S, n_out, k): i.i.d. N(0, scale^2) given the upstream network."""
        omega = standard_normals(self.rngs, (n_out, q.shape[2]), self.dtype)
        omega *= self.dtype(scale)
        return omega

    def orthogonal_draw(self, index: int, cols: np.ndarray, n_in: int, scale: float) -> np.ndarray:
        """E (S, n_in, m) with i.i.d. rows N(0, scale^2 cols^T cols) given ``cols`` (S, n_out, m);
        the pass keeps only (I - Q Q^T) E."""
        s, n_out, m = cols.shape
        if m <= n_out:
            r_g = np.linalg.qr(cols, mode="r")  # (S, m, m): r_g^T r_g = cols^T cols
            xi = standard_normals(self.rngs, (n_in, m), self.dtype)
            xi *= self.dtype(scale)
            return np.matmul(xi, r_g.astype(xi.dtype, copy=False))
        out = np.empty((s, n_in, m), dtype=np.result_type(cols.dtype, self.dtype))
        step = max(1, GAMMA_BLOCK_BYTES // (n_out * np.dtype(self.dtype).itemsize))
        for start in range(0, n_in, step):
            rows = min(step, n_in - start)
            gamma = standard_normals(self.rngs, (rows, n_out), self.dtype)
            gamma *= self.dtype(scale)
            out[:, start:start + rows] = np.matmul(gamma, cols)
        return out

    # ---- the Dense hooks
    def apply_dense(self, variance: float, h: np.ndarray):
        index = self.cursor
        self.cursor += 1
        n_in, n_out = h.shape[1], self.weights.width
        self.weights.owners.append(self.block_index)
        self.weights.fans.append((n_out, n_in))
        q, r = np.linalg.qr(h)  # (S, n_in, k), (S, k, T), k = min(n_in, T)
        scale = math.sqrt(variance / n_in)
        omega = self.forward_projection(index, q, n_out, scale)
        return np.matmul(omega, r.astype(omega.dtype, copy=False)), (index, h, q, omega, scale)

    def apply_dense_transposed(self, cache, g: np.ndarray) -> np.ndarray:
        index, h, q, omega, scale = cache
        if index in self.pulled:
            raise AnglefishError(f"internal: Dense {index} pulled back twice in one projected pass (its "
                                 "orthogonal part is not kept; run a new pass)")
        self.pulled.add(index)
        if self.on_dense is not None:
            self.on_dense(index, h, g)
        s, n_fun, n_out, t = g.shape
        inside = np.matmul(omega.transpose(0, 2, 1)[:, None], g)  # (S, R, k, T): Omega^T G
        n_in, k = q.shape[1], q.shape[2]
        if k == n_in:  # Q square: W = Omega Q^T entirely
            return np.matmul(q[:, None], inside)
        cols = np.ascontiguousarray(g.transpose(0, 2, 1, 3)).reshape(s, n_out, n_fun * t)
        e = self.orthogonal_draw(index, cols, n_in, scale)  # (S, n_in, R T)
        # Q Omega^T G + (I - Q Q^T) E = E + Q (Omega^T G - Q^T E)
        inside -= np.matmul(q.transpose(0, 2, 1), e).reshape(s, k, n_fun, t).transpose(0, 2, 1, 3)
        out = e.reshape(s, n_in, n_fun, t).transpose(0, 2, 1, 3)
        out += np.matmul(q[:, None], inside)
        return out


__all__ = ["GAMMA_BLOCK_BYTES", "LazyWeights", "ProjectedPass", "lazy_weights"]
