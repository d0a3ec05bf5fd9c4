# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 10 · Machine-learning basics
#
# Deep learning is one corner of machine learning. The ideas around it — what a model learns
# from, how features are prepared, how a result is measured and how sure we can be of it — are
# the same for a linear model, a random forest and a transformer. This assignment builds them by
# hand on scikit-learn's small bundled datasets (nothing is downloaded), in **PyTorch `float64`**
# tensors, and checks each piece against scikit-learn or SciPy:
#
# 1. **unsupervised learning**: k-means clustering with k-means++ initialisation, and principal
#    component analysis (PCA) via the SVD;
# 2. **feature engineering**: standardisation and min-max scaling fitted on the training split
#    only, and one-hot encoding of categories;
# 3. **evaluation**: k-fold cross-validation, a confusion matrix with precision, recall and F1,
#    MAE and RMSE for regression;
# 4. **statistics**: a bootstrap confidence interval for an accuracy, and a paired $t$-test that
#    asks whether one model is really better than another.
#
# Replace every `raise NotImplementedError()` with your code and run the tests under each task;
# hidden tests check the same behaviour on other inputs. scikit-learn's versions of what you
# write are off limits inside your functions (the tests compare against them).
# **Total: 24 points.**

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import matplotlib.pyplot as plt
import torch
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs

from autograders import device, make_generator, seed_everything, set_threads

set_threads(1)  # small tensors: one thread is fastest, and the host's cores are shared
torch.manual_seed(0)
DEVICE = device()
print("device:", DEVICE)

# %% [markdown] nbgrader={"grade": false, "grade_id": "framing_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Supervised and unsupervised learning: the same data, two questions
#
# The iris dataset measures 150 flowers (sepal and petal length and width, in cm) of three
# species. Written as a matrix $X \in \mathbb{R}^{150\times 4}$ (one row per flower, one column
# per **feature**) with a label vector $y \in \{0, 1, 2\}^{150}$, it supports two kinds of
# learning:
#
# * **supervised** — learn a function $f$ with $f(x_i) \approx y_i$ from labelled pairs
#   $(x_i, y_i)$, then predict labels of new flowers. Classification when $y$ is a category,
#   regression when it is a number. Success is measured against held-out labels.
# * **unsupervised** — only $X$ is given. Find structure in it: groups of similar rows
#   (**clustering**), or a few directions that capture most of the variation (**dimensionality
#   reduction**). There is no "right answer" to score against, only an objective such as the
#   within-cluster spread.
#
# Below, k-means will group the flowers without ever seeing $y$; afterwards we can *look* at how
# its clusters line up with the species — a check a real unsupervised problem would not have.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
iris = load_iris()
X_iris = torch.tensor(iris.data, dtype=torch.float64)
y_iris = torch.tensor(iris.target)
print("iris:", tuple(X_iris.shape), "features:", iris.feature_names)
print("species:", list(iris.target_names), "counts:", torch.bincount(y_iris).tolist())

# two more tables used later: wine (13 chemical measurements, 3 cultivars) and breast cancer
# (30 features of cell nuclei, malignant 0 / benign 1), split once into training and test rows
wine = load_wine()
X_wine, y_wine = torch.tensor(wine.data), torch.tensor(wine.target)
cancer = load_breast_cancer()
X_cancer, y_cancer = torch.tensor(cancer.data), torch.tensor(cancer.target)
order = torch.randperm(len(X_cancer), generator=make_generator(10))
X_tr, X_te = X_cancer[order[:400]], X_cancer[order[400:]]
y_tr, y_te = y_cancer[order[:400]], y_cancer[order[400:]]
print("wine:", tuple(X_wine.shape), "| breast cancer:", tuple(X_cancer.shape), "->", len(X_tr), "train,",
      len(X_te), "test")

# %% [markdown] nbgrader={"grade": false, "grade_id": "kpp_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — k-means++ initialisation (2 points)
#
# **k-means** splits $n$ points into $k$ clusters, each represented by its centroid
# $\mu_1, \dots, \mu_k$, minimising the **inertia** (within-cluster sum of squares)
#
# $$J = \sum_{i=1}^{n} \min_{j} \lVert x_i - \mu_j \rVert^2 .$$
#
# The algorithm (next task) only finds a *local* minimum, and which one depends on the starting
# centroids. Starting from $k$ points drawn uniformly at random often puts two centroids in one
# true cluster and none in another. **k-means++** (Arthur & Vassilvitskii, 2007) spreads them
# out:
#
# 1. pick the first centroid uniformly at random among the data points;
# 2. for every point compute $D(x_i)^2$, its squared distance to the **nearest** centroid chosen
#    so far;
# 3. pick the next centroid among the data points with probability
#    $D(x_i)^2 / \sum_l D(x_l)^2$ — far-away points are likely, points already chosen have
#    probability 0;
# 4. repeat 2–3 until there are $k$ centroids.
#
# Write `kmeans_pp_init(X, k, generator)` for a float64 tensor `X` of shape $(n, d)$ (on the
# CPU) returning a $(k, d)$ tensor whose rows are the chosen data points, in the order chosen.
# Draw **all** randomness from the given `torch.Generator` (e.g. `torch.randint(...,
# generator=generator)` and `torch.multinomial(weights, 1, generator=generator)`, which samples
# an index with probability proportional to non-negative `weights`), so that the same seed gives
# the same centroids. The tests sample your function thousands of times and compare how often
# each set of points is chosen with the exact k-means++ probabilities.

# %% nbgrader={"grade": false, "grade_id": "kmeans_pp_init", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kmeans_pp_init(X, k, generator):
    ### BEGIN SOLUTION
    n = X.shape[0]
    chosen = [int(torch.randint(n, (1,), generator=generator))]
    d2 = ((X - X[chosen[0]]) ** 2).sum(dim=1)
    for _ in range(1, k):
        i = int(torch.multinomial(d2, 1, generator=generator))
        chosen.append(i)
        d2 = torch.minimum(d2, ((X - X[i]) ** 2).sum(dim=1))
    return X[chosen].clone()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kmeans_pp_init", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from collections import Counter

from autograders import check_source_forbids, check_tensor


def pp_set_probabilities(X, k):
    """Exact probability of each (unordered) set of chosen row indices under k-means++."""
    n, probs = len(X), Counter()

    def extend(chosen, p):
        if len(chosen) == k:
            probs[frozenset(chosen)] += p
            return
        d2 = torch.stack([((X - X[c]) ** 2).sum(dim=1) for c in chosen]).min(dim=0).values
        for i in range(n):
            if d2[i] > 0:
                extend(chosen + [i], p * (d2[i] / d2.sum()).item())

    for first in range(n):
        extend([first], 1 / n)
    return probs


def check_pp_distribution(X, k, trials, seed, label, tol=0.035):
    g = make_generator(seed)
    sets, firsts = Counter(), Counter()
    for _ in range(trials):
        C = kmeans_pp_init(X, k, g)
        check_tensor(C, shape=(k, X.shape[1]), dtype=torch.float64, name=f"kmeans_pp_init ({label})")
        rows = []
        for c in C:
            match = (X == c).all(dim=1).nonzero().flatten().tolist()
            assert match, f"{label}: centroid {c.tolist()} is not a data point; k-means++ picks rows of X"
            rows.append(match[0])
        assert len(set(rows)) == k, f"{label}: the same point was chosen twice ({rows})"
        sets[frozenset(rows)] += 1
        firsts[rows[0]] += 1
    for i in range(len(X)):
        freq = firsts[i] / trials
        assert abs(freq - 1 / len(X)) < tol, (
            f"{label}: point {i} was chosen first in {freq:.1%} of {trials} runs; the first centroid "
            f"should be uniform ({1 / len(X):.1%} each)")
    for chosen, p in sorted(pp_set_probabilities(X, k).items(), key=lambda kv: sorted(kv[0])):
        freq = sets[chosen] / trials
        assert abs(freq - p) < tol, (
            f"{label}: the points {sorted(chosen)} were chosen together in {freq:.1%} of {trials} runs; "
            f"k-means++ chooses them with probability {p:.1%}.\n"
            "Hint: weight each point by its SQUARED distance to the NEAREST centroid chosen so far.")


check_source_forbids(kmeans_pp_init, ["kmeans_plusplus", "KMeans", "k_means", "kmeans2"])
X_line = torch.tensor([[0.0], [1.0], [4.0]], dtype=torch.float64)
check_tensor(kmeans_pp_init(X_line, 2, make_generator(7)), kmeans_pp_init(X_line, 2, make_generator(7)),
             name="two calls with generators seeded alike (draw every random number from `generator`)")
check_pp_distribution(X_line, 2, trials=3000, seed=0, label="points 0, 1, 4 on a line, k = 2")
### BEGIN HIDDEN TESTS
X_plane = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [6.0, 4.0]], dtype=torch.float64)
check_pp_distribution(X_plane, 3, trials=3000, seed=1, label="5 points in the plane, k = 3")
X_blobs = torch.tensor(make_blobs(n_samples=40, centers=4, cluster_std=0.3, random_state=3)[0])
C = kmeans_pp_init(X_blobs, 4, make_generator(2))
check_tensor(C, shape=(4, 2), dtype=torch.float64, name="kmeans_pp_init on 4 blobs")
check_tensor(C, kmeans_pp_init(X_blobs, 4, make_generator(2)), name="kmeans_pp_init with the same seed twice")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "lloyd_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — k-means: Lloyd's algorithm (3 points)
#
# From initial centroids, **Lloyd's algorithm** alternates two steps, each of which can only
# lower the inertia $J$:
#
# * **assignment** — each point joins the cluster of its nearest centroid,
#   $\ell_i = \arg\min_j \lVert x_i - \mu_j\rVert^2$ (ties go to the smaller index, as
#   `argmin` does);
# * **update** — each centroid moves to the mean of its points, $\mu_j = \frac{1}{|C_j|}\sum_{i
#   \in C_j} x_i$ (the mean is the point minimising the sum of squared distances to them).
#
# It has **converged** when an assignment step changes no label: the update would then leave
# every centroid where it is. As there are finitely many assignments and $J$ never increases,
# this always happens; `max_iter` is only a safety net. If a cluster ends up empty, keep its
# centroid where it was (a mean of no points is `nan`).
#
# Write `kmeans(X, init, max_iter=300)` for `X` $(n, d)$ and initial centroids `init` $(k, d)$
# (float64, on any device; do not modify `init`), returning `(centroids, labels, inertia)`:
# the final $(k, d)$ centroids, the int64 labels $(n,)$ consistent with them, and the inertia
# $J$ (a number or 0-d tensor). Broadcasting gives all squared distances at once:
# `((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)` has shape $(n, k)$. The tests compare with
# `sklearn.cluster.KMeans(init=init, n_init=1)`, which runs the same algorithm.

# %% nbgrader={"grade": false, "grade_id": "kmeans", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kmeans(X, init, max_iter=300):
    ### BEGIN SOLUTION
    centroids = init.clone()
    labels = None
    for _ in range(max_iter):
        new_labels = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(dim=-1).argmin(dim=1)
        if labels is not None and torch.equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(len(centroids)):
            members = X[labels == j]
            if len(members) > 0:
                centroids[j] = members.mean(dim=0)
    labels = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(dim=-1).argmin(dim=1)
    inertia = ((X - centroids[labels]) ** 2).sum()
    return centroids, labels, inertia
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kmeans", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from sklearn.cluster import KMeans

from autograders import check_close


def check_kmeans(X, init, label):
    init_copy = init.clone()
    result = kmeans(X.to(DEVICE), init.to(DEVICE))
    assert isinstance(result, tuple) and len(result) == 3, "kmeans should return (centroids, labels, inertia)"
    centroids, labels, inertia = result
    check_tensor(init, init_copy, name=f"init after kmeans ({label}): do not modify it in place")
    ref = KMeans(n_clusters=len(init), init=init.numpy(), n_init=1, max_iter=300, tol=0.0,
                 algorithm="lloyd").fit(X.numpy())
    check_tensor(labels.cpu(), torch.tensor(ref.labels_).long(), name=f"labels ({label})")
    check_tensor(centroids.cpu(), torch.tensor(ref.cluster_centers_), rtol=1e-9, atol=1e-9,
                 name=f"centroids ({label})")
    check_close(inertia, ref.inertia_, rtol=1e-9, name=f"inertia ({label})")


check_source_forbids(kmeans, ["KMeans", "k_means", "kmeans2", "vq"])
X_b, _ = make_blobs(n_samples=60, centers=3, cluster_std=1.5, random_state=0)
X_b = torch.tensor(X_b)
check_kmeans(X_b, X_b[[0, 1, 2]], "60 points in 3 blobs, started from the first 3 points")
### BEGIN HIDDEN TESTS
X_b, _ = make_blobs(n_samples=200, n_features=3, centers=5, cluster_std=2.0, random_state=4)
X_b = torch.tensor(X_b)
check_kmeans(X_b, X_b[:5], "200 points in 3-D, 5 clusters")
check_kmeans(X_iris, X_iris[[0, 1, 2]], "iris from 3 setosa flowers (many iterations)")
check_kmeans(X_iris, X_iris[[0, 50, 100, 120]], "iris, k = 4")
# an empty cluster keeps its centroid
init = torch.tensor([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]], dtype=torch.float64)
pts = torch.tensor([[0.0, 1.0], [1.0, 0.0], [9.0, 10.0], [11.0, 10.0], [10.0, 12.0]], dtype=torch.float64)
centroids, labels, inertia = kmeans(pts.to(DEVICE), init.to(DEVICE))
check_tensor(centroids.cpu(), [[0.5, 0.5], [10.0, 32 / 3], [100.0, 100.0]], rtol=1e-9,
             name="centroids when the third cluster gets no point (it must stay at (100, 100))")
check_tensor(labels.cpu(), [0, 0, 1, 1, 1], name="labels with an empty cluster")
# best of 10 k-means++ starts (a reference k-means++) against scikit-learn's n_init=10
def reference_pp(X, k, g):
    chosen = [int(torch.randint(len(X), (1,), generator=g))]
    for _ in range(1, k):
        d2 = torch.stack([((X - X[c]) ** 2).sum(1) for c in chosen]).min(0).values
        chosen.append(int(torch.multinomial(d2, 1, generator=g)))
    return X[chosen].clone()


g = make_generator(0)
best = min(float(kmeans(X_iris.to(DEVICE), reference_pp(X_iris, 3, g).to(DEVICE))[2]) for _ in range(10))
check_close(best, KMeans(n_clusters=3, n_init=10, random_state=0).fit(X_iris.numpy()).inertia_, rtol=1e-6,
            name="best inertia of 10 k-means++ starts on iris vs scikit-learn")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "kmeans_demo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Since each run ends in a local minimum, practice runs k-means from several k-means++ starts
# and keeps the lowest inertia (scikit-learn's `n_init`). On iris, the clusters found without
# labels line up well, but not perfectly, with the species: setosa stands apart, versicolor and
# virginica overlap.

# %% nbgrader={"grade": false, "grade_id": "kmeans_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    g = make_generator(0)
    runs = [kmeans(X_iris, kmeans_pp_init(X_iris, 3, g)) for _ in range(10)]
    centroids, labels, inertia = min(runs, key=lambda r: float(r[2]))
    print(f"best inertia of 10 starts: {float(inertia):.3f}")
    print("rows: cluster, columns: species (setosa, versicolor, virginica)")
    print(torch.bincount(labels * 3 + y_iris, minlength=9).reshape(3, 3))
except NotImplementedError:
    print("kmeans_pp_init / kmeans are not implemented yet")

# %% [markdown] nbgrader={"grade": false, "grade_id": "pca_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — principal component analysis via the SVD (3 points)
#
# PCA finds orthonormal directions $v_1, v_2, \dots$ along which the data vary most: $v_1$
# maximises the variance of the projections $x_i^\top v$, $v_2$ does the same orthogonally to
# $v_1$, and so on. Projecting onto the first few gives a low-dimensional view that keeps as much
# variance as possible.
#
# 1. **Centre** the data: $X_c = X - \bar x$ (subtract each column's mean). Without it, the SVD
#    describes spread around the origin, not around the mean: for data far from the origin
#    the first "direction of variance" points towards the mean instead.
# 2. Take the thin SVD $X_c = U \Sigma V^\top$ (`torch.linalg.svd(Xc, full_matrices=False)`
#    returns `U, S, Vh` with `Vh` $= V^\top$). The covariance matrix is
#    $\frac{1}{n-1}X_c^\top X_c = V \frac{\Sigma^2}{n-1} V^\top$, so the **principal axes** are
#    the rows of `Vh` (the right singular vectors, each of length $d$; `U`'s columns have
#    length $n$), sorted by singular value.
# 3. The **explained variance** of component $j$ is $\sigma_j^2 / (n-1)$ (the sample variance
#    of the projections), and its **explained variance ratio** is
#    $\sigma_j^2 / \sum_{l} \sigma_l^2$ — the share of the *total* variance, summed over **all**
#    singular values, not just the ones kept.
# 4. The projected data (the "scores") are $Z = X_c V_k$, of shape $(n, k)$.
#
# A singular vector is only defined up to sign ($-v$ works as well as $v$, with $-u$), so two
# correct implementations may disagree in signs: the tests align signs before comparing.
#
# Write `pca(X, n_components)` returning `(Z, components, explained_variance,
# explained_variance_ratio)` with shapes $(n, k)$, $(k, d)$, $(k,)$ and $(k,)$, matching
# `sklearn.decomposition.PCA` up to signs. No `sklearn`, `torch.pca_lowrank` or
# `torch.svd_lowrank`.

# %% nbgrader={"grade": false, "grade_id": "pca", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pca(X, n_components):
    ### BEGIN SOLUTION
    Xc = X - X.mean(dim=0)
    U, S, Vh = torch.linalg.svd(Xc, full_matrices=False)
    components = Vh[:n_components]
    variance = S**2 / (X.shape[0] - 1)
    ratio = variance / variance.sum()
    return Xc @ components.T, components, variance[:n_components], ratio[:n_components]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pca", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from sklearn.decomposition import PCA


def check_pca(X, k, label):
    result = pca(X.to(DEVICE), k)
    assert isinstance(result, tuple) and len(result) == 4, (
        "pca should return (Z, components, explained_variance, explained_variance_ratio)")
    Z, components, variance, ratio = (t.cpu() for t in result)
    ref = PCA(n_components=k, svd_solver="full").fit(X.numpy())
    n, d = X.shape
    check_tensor(components, shape=(k, d), name=f"components ({label})")
    check_tensor(Z, shape=(n, k), name=f"Z ({label})")
    ref_components = torch.tensor(ref.components_)
    signs = torch.sign((components * ref_components).sum(dim=1))  # align the arbitrary signs
    signs[signs == 0] = 1
    check_tensor(components * signs[:, None], ref_components, rtol=1e-6, atol=1e-8,
                 name=f"components, signs aligned ({label})")
    check_tensor(Z * signs, torch.tensor(ref.transform(X.numpy())), rtol=1e-6, atol=1e-8,
                 name=f"projected data Z, signs aligned ({label})")
    check_tensor(variance, torch.tensor(ref.explained_variance_), rtol=1e-9, name=f"explained_variance ({label})")
    check_tensor(ratio, torch.tensor(ref.explained_variance_ratio_), rtol=1e-9,
                 name=f"explained_variance_ratio ({label})")


check_source_forbids(pca, ["PCA", "pca_lowrank", "svd_lowrank", "TruncatedSVD"])
check_pca(X_wine, 2, "wine, 13 features, 2 components")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(5)
A = torch.randn(40, 6, generator=g, dtype=torch.float64) @ torch.randn(6, 6, generator=g, dtype=torch.float64) + 3.0
check_pca(A, 6, "40 random correlated points, all 6 components")
check_pca(A, 3, "the same points, 3 components")
B = torch.randn(8, 12, generator=g, dtype=torch.float64) + 10.0
check_pca(B, 4, "8 points in 12-D (fewer points than features)")
check_pca(torch.tensor(load_digits().data), 10, "digits, 64 features, 10 components")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "pca_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The 8×8 digits live in 64 dimensions; their first two principal components already separate
# several digits (each colour is a digit, a label PCA never saw). How much variance do two
# components keep, and how many are needed for 90 %? (`explained_variance_ratio.cumsum()`.)

# %% nbgrader={"grade": false, "grade_id": "pca_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    digits = load_digits()
    Z, _, _, ratio = pca(torch.tensor(digits.data), 2)
    plt.figure(figsize=(5, 4))
    points = plt.scatter(Z[:, 0], Z[:, 1], c=digits.target, cmap="tab10", s=6)
    plt.colorbar(points, label="digit")
    plt.xlabel("first principal component")
    plt.ylabel("second principal component")
    plt.title(f"digits: 2 components keep {float(ratio.sum()):.0%} of the variance", fontsize=9)
    plt.show()
except NotImplementedError:
    print("pca is not implemented yet")

# %% [markdown] nbgrader={"grade": false, "grade_id": "scaling_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — feature scaling without leakage (2 + 1 points)
#
# Features come in different units: in the breast-cancer data one column is an area in the
# thousands, another a smoothness around 0.1. Distance-based methods (k-means, nearest
# neighbours), PCA and gradient descent all care about scale, so features are usually rescaled:
#
# * **standardisation**: $x' = (x - \mu)/\sigma$ per column, giving mean 0 and standard
#   deviation 1. scikit-learn's `StandardScaler` uses the **population** standard deviation
#   $\sigma = \sqrt{\frac1n\sum_i (x_i-\mu)^2}$ (`correction=0`) — while `torch.std` defaults
#   to the sample version with $n-1$;
# * **min-max scaling**: $x' = (x - \min)/(\max - \min)$ per column, mapping the training range
#   to $[0, 1]$.
#
# A constant column has $\sigma = 0$ (or $\max = \min$): use a scale of 1 for it, as
# scikit-learn does, so it becomes 0 instead of `nan`.
#
# The statistics $\mu, \sigma, \min, \max$ are **learned parameters** of the preprocessing, so
# they must come from the **training split only** — then applied unchanged to validation and
# test data. Fitting them on all the data, or re-fitting on the test set, is **data leakage**:
# information about the test set shapes the model, and the test score is optimistic. The same
# rule holds inside cross-validation: fit on each training fold only.
#
# Write two classes with scikit-learn's interface, `fit(X)` (learns the statistics from `X`,
# returns `self`) and `transform(X)` (applies the stored statistics to any `X`):
#
# * `Standardizer`, storing the attributes `mean_` and `scale_` (the $\sigma$ used, 1 for
#   constant columns);
# * `MinMaxNormalizer`, storing `min_` and `range_` ($\max - \min$, 1 for constant columns);
#
# and `scale_split(X_train, X_test, scaler)` that fits `scaler` on the training split and returns
# the transformed `(X_train, X_test)`.

# %% nbgrader={"grade": false, "grade_id": "scalers", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Standardizer:
    def fit(self, X):
        ### BEGIN SOLUTION
        self.mean_ = X.mean(dim=0)
        std = X.std(dim=0, correction=0)
        self.scale_ = torch.where(std > 0, std, torch.ones_like(std))
        return self
        ### END SOLUTION

    def transform(self, X):
        ### BEGIN SOLUTION
        return (X - self.mean_) / self.scale_
        ### END SOLUTION


class MinMaxNormalizer:
    def fit(self, X):
        ### BEGIN SOLUTION
        self.min_ = X.amin(dim=0)
        spread = X.amax(dim=0) - self.min_
        self.range_ = torch.where(spread > 0, spread, torch.ones_like(spread))
        return self
        ### END SOLUTION

    def transform(self, X):
        ### BEGIN SOLUTION
        return (X - self.min_) / self.range_
        ### END SOLUTION


def scale_split(X_train, X_test, scaler):
    ### BEGIN SOLUTION
    scaler.fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scalers", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.preprocessing import MinMaxScaler, StandardScaler


def check_scaler(mine, ref, X_fit, X_other, label):
    fitted = mine.fit(X_fit.to(DEVICE))
    assert fitted is mine, f"{type(mine).__name__}.fit should return self"
    ref.fit(X_fit.numpy())
    for X, part in ((X_fit, "the data it was fitted on"), (X_other, "other data")):
        check_tensor(mine.transform(X.to(DEVICE)).cpu(), torch.tensor(ref.transform(X.numpy())), rtol=1e-9,
                     atol=1e-12, name=f"{type(mine).__name__}.transform of {part} ({label})")


check_source_forbids(Standardizer, ["StandardScaler", "MinMaxScaler", "scale", "minmax_scale"])
check_source_forbids(MinMaxNormalizer, ["StandardScaler", "MinMaxScaler", "scale", "minmax_scale"])
check_scaler(Standardizer(), StandardScaler(), X_tr, X_te, "breast cancer, 400 training rows")
check_scaler(MinMaxNormalizer(), MinMaxScaler(), X_tr, X_te, "breast cancer, 400 training rows")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(11)
A = torch.randn(30, 4, generator=g, dtype=torch.float64) * torch.tensor([1.0, 50.0, 0.01, 3.0]) + 7.0
A[:, 2] = 4.25  # a constant column: scale 1
A_new = torch.randn(9, 4, generator=g, dtype=torch.float64) * 20
check_scaler(Standardizer(), StandardScaler(), A, A_new, "30 rows, one constant column")
check_scaler(MinMaxNormalizer(), MinMaxScaler(), A, A_new, "30 rows, one constant column")
s = Standardizer().fit(A.to(DEVICE))
check_tensor(s.mean_.cpu(), A.mean(0), rtol=1e-9, name="Standardizer.mean_")
check_tensor(s.scale_.cpu(), torch.tensor(StandardScaler().fit(A.numpy()).scale_), rtol=1e-9,
             name="Standardizer.scale_ (population standard deviation, 1 for the constant column)")
m = MinMaxNormalizer().fit(A.to(DEVICE))
check_tensor(m.min_.cpu(), A.amin(0), name="MinMaxNormalizer.min_")
check_tensor(m.range_.cpu(), [float(A[:, 0].max() - A[:, 0].min()), float(A[:, 1].max() - A[:, 1].min()), 1.0,
                              float(A[:, 3].max() - A[:, 3].min())], rtol=1e-9, name="MinMaxNormalizer.range_")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_scale_split", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
class RefStandardizer:  # a reference scaler: a bug in Standardizer is not charged twice
    def fit(self, X):
        self.mean_, self.scale_ = X.mean(0), X.std(0, correction=0).clamp(min=1e-300)
        return self

    def transform(self, X):
        return (X - self.mean_) / self.scale_


def check_no_leak(X_train, X_test, label):
    result = scale_split(X_train.to(DEVICE), X_test.to(DEVICE), RefStandardizer())
    assert isinstance(result, tuple) and len(result) == 2, "scale_split should return (X_train, X_test) scaled"
    ref = StandardScaler().fit(X_train.numpy())
    check_tensor(result[0].cpu(), torch.tensor(ref.transform(X_train.numpy())), rtol=1e-9, atol=1e-12,
                 name=f"scaled training split ({label})")
    check_tensor(result[1].cpu(), torch.tensor(ref.transform(X_test.numpy())), rtol=1e-9, atol=1e-12,
                 name=f"scaled test split ({label}): the statistics must come from the training split only")


check_no_leak(X_tr, X_te, "breast cancer")
### BEGIN HIDDEN TESTS
X_shifted = X_te * 3 + 1000  # a test split from another distribution: must not move the training statistics
check_no_leak(X_tr, X_shifted, "test split shifted by +1000")
check_no_leak(X_tr[:50], X_te[:5], "50 training rows, 5 test rows")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "onehot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — one-hot encoding (2 points)
#
# A model multiplies features by weights, so a categorical feature such as an island name
# (`"Biscoe"`, `"Dream"`, `"Torgersen"`) needs numbers first. Coding the categories as 0, 1, 2
# would invent an order and distances ("Torgersen is twice as far from Biscoe as Dream").
# **One-hot encoding** instead gives each category its own 0/1 column: `"Dream"` becomes
# $(0, 1, 0)$.
#
# Like a scaler, the encoder is **fitted on the training split**: the list of categories (its
# columns) is learned once, in a fixed order — sorted, as scikit-learn does — and reused for any
# later data so that column $j$ always means the same thing. A category never seen in training
# gets a row of zeros (scikit-learn's `handle_unknown="ignore"`), rather than a new column the
# model has no weight for.
#
# Write `fit_categories(values)`, returning the sorted list of distinct values of a list of
# strings, and `one_hot(values, categories)`, returning a float64 tensor of shape
# $(\text{len(values)}, \text{len(categories)})$ with a 1 in the column of each value's
# category and zeros for unknown values. No `OneHotEncoder`, `F.one_hot` or `pandas`.

# %% nbgrader={"grade": false, "grade_id": "one_hot", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_categories(values):
    ### BEGIN SOLUTION
    return sorted(set(values))
    ### END SOLUTION


def one_hot(values, categories):
    ### BEGIN SOLUTION
    column = {c: j for j, c in enumerate(categories)}
    out = torch.zeros(len(values), len(categories), dtype=torch.float64)
    for i, v in enumerate(values):
        if v in column:
            out[i, column[v]] = 1.0
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_one_hot", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from sklearn.preprocessing import OneHotEncoder

from autograders import forbid


def check_one_hot(train, test, label):
    ref = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(np.array(train)[:, None])
    categories = fit_categories(train)
    expected = [str(c) for c in ref.categories_[0]]
    assert list(categories) == expected, f"fit_categories ({label}): expected {expected}, got {list(categories)}"
    with forbid(torch.nn.functional.one_hot):
        for values, part in ((train, "training values"), (test, "new values")):
            check_tensor(one_hot(values, categories), torch.tensor(ref.transform(np.array(values)[:, None])),
                         dtype=torch.float64, name=f"one_hot of the {part} ({label})")


check_source_forbids(one_hot, ["OneHotEncoder", "one_hot", "get_dummies", "label_binarize", "LabelBinarizer"])
islands = ["Torgersen", "Biscoe", "Dream", "Biscoe", "Torgersen", "Dream", "Biscoe"]
check_one_hot(islands, ["Dream", "Biscoe", "Dream"], "penguin islands")
### BEGIN HIDDEN TESTS
check_source_forbids(fit_categories, ["OneHotEncoder", "get_dummies", "LabelBinarizer"])
colours = ["red", "green", "blue", "green", "green", "yellow"]
check_one_hot(colours, ["purple", "red", "blue", "yellow", "purple"], "unknown colour purple")
check_one_hot(["b", "a", "c"], ["c", "c", "b", "a"], "three categories in reverse order of appearance")
check_one_hot(["solo"] * 4, ["solo", "other"], "a single category")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "kfold_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — k-fold cross-validation (2 + 1 points)
#
# One train/test split gives one noisy score. **k-fold cross-validation** uses every example for
# validation exactly once: split the $n$ indices into $k$ disjoint **folds** of nearly equal
# size; for each fold $i$, train a fresh model on the other $k-1$ folds and score it on fold $i$.
# The $k$ scores show both the expected performance (their mean) and how much it varies.
#
# Fold sizes follow scikit-learn's `KFold`: the first $n \bmod k$ folds have
# $\lfloor n/k\rfloor + 1$ indices, the others $\lfloor n/k\rfloor$, taken **consecutively**
# from an ordering of $0, \dots, n-1$ — the natural order when `generator` is `None`, else the
# random permutation `torch.randperm(n, generator=generator)` (shuffle when the data are sorted,
# e.g. by class). Each training part holds all the other indices, in the same order as in the
# ordering.
#
# Write
#
# * `kfold_indices(n, k, generator=None)` returning a list of $k$ pairs
#   `(train_idx, val_idx)` of int64 tensors;
# * `cross_validate(make_model, X, y, folds)`: for each `(train_idx, val_idx)` in `folds`,
#   build a **fresh** model with `make_model()`, `fit` it on the training rows and compute its
#   accuracy on the validation rows (the fraction of `model.predict(X_val)` equal to `y_val`);
#   return the $k$ accuracies as a float64 tensor. `make_model()` returns an object with
#   scikit-learn's `fit(X, y)` / `predict(X)` interface on tensors, such as the
#   `NearestCentroid` classifier below.
#
# No `sklearn.model_selection` (`KFold`, `cross_val_score`, ...).

# %% nbgrader={"grade": false, "grade_id": "nearest_centroid", "locked": true, "schema_version": 3, "solution": false, "task": false}
class NearestCentroid:
    """Predicts the class whose training mean is nearest: a tiny model with fit/predict."""

    def fit(self, X, y):
        self.classes_ = torch.unique(y)
        self.centroids_ = torch.stack([X[y == c].mean(dim=0) for c in self.classes_])
        return self

    def predict(self, X):
        d2 = ((X[:, None, :] - self.centroids_[None]) ** 2).sum(dim=-1)
        return self.classes_[d2.argmin(dim=1)]


# %% nbgrader={"grade": false, "grade_id": "kfold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kfold_indices(n, k, generator=None):
    ### BEGIN SOLUTION
    order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
    folds, start = [], 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        val = order[start:start + size]
        train = torch.cat([order[:start], order[start + size:]])
        folds.append((train, val))
        start += size
    return folds
    ### END SOLUTION


def cross_validate(make_model, X, y, folds):
    ### BEGIN SOLUTION
    scores = []
    for train_idx, val_idx in folds:
        model = make_model()
        model.fit(X[train_idx], y[train_idx])
        scores.append((model.predict(X[val_idx]) == y[val_idx]).double().mean())
    return torch.stack(scores)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kfold", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.model_selection import KFold


def check_kfold_like_sklearn(n, k):
    folds = kfold_indices(n, k)
    assert len(folds) == k, f"kfold_indices({n}, {k}) should return {k} folds, got {len(folds)}"
    for i, ((train, val), (ref_train, ref_val)) in enumerate(zip(folds, KFold(n_splits=k).split(range(n)))):
        check_tensor(val, torch.tensor(ref_val), name=f"validation indices of fold {i} (n={n}, k={k})")
        check_tensor(train, torch.tensor(ref_train), name=f"training indices of fold {i} (n={n}, k={k})")


def check_kfold_shuffled(n, k, seed):
    folds = kfold_indices(n, k, make_generator(seed))
    assert len(folds) == k, f"kfold_indices({n}, {k}, generator) should return {k} folds, got {len(folds)}"
    vals = torch.cat([val for _, val in folds])
    check_tensor(vals.sort().values, torch.arange(n),
                 name=f"all validation folds together (n={n}, k={k}, shuffled): each index exactly once")
    check_tensor(vals, torch.randperm(n, generator=make_generator(seed)),
                 name=f"validation folds in order (n={n}, k={k}): consecutive slices of randperm(n, generator)")
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1, f"fold sizes {sizes} should differ by at most 1"
    for i, (train, val) in enumerate(folds):
        together = torch.cat([train, val]).sort().values
        check_tensor(together, torch.arange(n), name=f"training + validation indices of fold {i} (n={n}, k={k})")


check_source_forbids(kfold_indices, ["KFold", "StratifiedKFold", "train_test_split"])
check_kfold_like_sklearn(10, 3)
check_kfold_shuffled(10, 3, seed=0)
### BEGIN HIDDEN TESTS
for n, k in [(12, 4), (17, 5), (100, 10), (7, 7)]:
    check_kfold_like_sklearn(n, k)
for n, k, seed in [(23, 4, 1), (150, 10, 2), (6, 6, 3)]:
    check_kfold_shuffled(n, k, seed)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_cross_validate", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def reference_folds(n, k, seed):
    order = torch.randperm(n, generator=make_generator(seed))
    return [(torch.cat([part for j, part in enumerate(order.tensor_split(k)) if j != i]), val)
            for i, val in enumerate(order.tensor_split(k))]


def check_cross_validate(X, y, k, seed, label):
    folds = reference_folds(len(X), k, seed)
    built = []

    def make_model():
        built.append(NearestCentroid())
        return built[-1]

    scores = cross_validate(make_model, X, y, folds)
    assert len(built) == k, f"{label}: make_model() should be called once per fold ({k}), was called {len(built)} times"
    expected = [(NearestCentroid().fit(X[tr], y[tr]).predict(X[va]) == y[va]).double().mean() for tr, va in folds]
    check_tensor(scores, torch.stack(expected), dtype=torch.float64, rtol=1e-12, name=f"fold accuracies ({label})")


check_source_forbids(cross_validate, ["cross_val_score", "cross_validate", "cross_val_predict"])
check_cross_validate(X_iris, y_iris, 5, 0, "iris, 5 folds")
### BEGIN HIDDEN TESTS
check_cross_validate(X_cancer, y_cancer, 10, 1, "breast cancer, 10 folds")
X_wine_std = (X_wine - X_wine.mean(0)) / X_wine.std(0)
check_cross_validate(X_wine_std, y_wine, 4, 2, "standardised wine, 4 folds")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "metrics_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 7 — confusion matrix, precision, recall, F1, MAE and RMSE (1 + 2 + 1 points)
#
# For $C$ classes the **confusion matrix** $M$ counts, in row $t$ and column $p$, the examples
# of true class $t$ predicted as $p$ (scikit-learn's convention: rows are the truth). Its
# diagonal holds the correct predictions; everything else is an error of a particular kind.
# Per class $c$:
#
# * true positives $TP_c = M_{cc}$; column sum $\sum_t M_{tc} = TP_c + FP_c$ (all predicted
#   $c$); row sum $\sum_p M_{cp} = TP_c + FN_c$ (all truly $c$);
# * **precision** $P_c = TP_c/(TP_c+FP_c)$ — of the examples predicted $c$, the share that are
#   $c$; **recall** $R_c = TP_c/(TP_c+FN_c)$ — of the examples of class $c$, the share found;
# * **F1** $= 2P_cR_c/(P_c+R_c)$, their *harmonic* mean: high only when both are high.
#
# Each is $0$ when its denominator is $0$ (scikit-learn's `zero_division=0`).
#
# For regression, the **mean absolute error** $\text{MAE} = \frac1n\sum_i|\hat y_i - y_i|$ and the
# **root mean squared error** $\text{RMSE} = \sqrt{\frac1n\sum_i(\hat y_i-y_i)^2}$ are both in the
# units of $y$; RMSE punishes large errors more (RMSE $\ge$ MAE always).
#
# Write
#
# * `confusion_matrix(y_true, y_pred, num_classes)` → an int64 $(C, C)$ tensor;
# * `precision_recall_f1(cm)` → three float64 tensors of shape $(C,)$, the per-class precision,
#   recall and F1, computed from a confusion matrix `cm`;
# * `mae(pred, target)` and `rmse(pred, target)` → 0-d tensors.
#
# No `sklearn.metrics` and no `torchmetrics`.

# %% nbgrader={"grade": false, "grade_id": "metrics", "locked": false, "schema_version": 3, "solution": true, "task": false}
def confusion_matrix(y_true, y_pred, num_classes):
    ### BEGIN SOLUTION
    C = num_classes
    return torch.bincount(y_true * C + y_pred, minlength=C * C).reshape(C, C)
    ### END SOLUTION


def precision_recall_f1(cm):
    ### BEGIN SOLUTION
    cm = cm.double()
    tp = cm.diag()
    predicted, actual = cm.sum(dim=0), cm.sum(dim=1)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), 0.0)
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), 0.0)
    total = precision + recall
    f1 = torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-300), 0.0)
    return precision, recall, f1
    ### END SOLUTION


def mae(pred, target):
    ### BEGIN SOLUTION
    return (pred - target).abs().mean()
    ### END SOLUTION


def rmse(pred, target):
    ### BEGIN SOLUTION
    return ((pred - target) ** 2).mean().sqrt()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_confusion_matrix", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn import metrics as skm


def check_confusion(y_true, y_pred, C, label):
    cm = confusion_matrix(y_true.to(DEVICE), y_pred.to(DEVICE), C)
    check_tensor(cm.cpu(), torch.tensor(skm.confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=list(range(C)))),
                 dtype=torch.int64, name=f"confusion matrix ({label})")


check_source_forbids(confusion_matrix, ["confusion_matrix", "multilabel_confusion_matrix", "torchmetrics"])
check_confusion(torch.tensor([0, 0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 1, 1, 2, 0, 1]), 3, "7 examples, 3 classes")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(12)
y_true = torch.randint(0, 6, (300,), generator=g)
check_confusion(y_true, torch.where(torch.rand(300, generator=g) < 0.6, y_true, torch.randint(0, 6, (300,), generator=g)),
                6, "300 examples, 6 classes")
check_confusion(torch.tensor([1, 1, 0]), torch.tensor([3, 1, 1]), 4, "classes 2 and 3 never true")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_precision_recall_f1", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_prf(y_true, y_pred, C, label):
    cm = torch.bincount(y_true * C + y_pred, minlength=C * C).reshape(C, C)  # a reference confusion matrix
    result = precision_recall_f1(cm.to(DEVICE))
    assert isinstance(result, tuple) and len(result) == 3, "precision_recall_f1 should return (precision, recall, f1)"
    expected = skm.precision_recall_fscore_support(y_true.numpy(), y_pred.numpy(), labels=list(range(C)),
                                                   zero_division=0)[:3]
    for got, ref, what in zip(result, expected, ("precision", "recall", "F1")):
        check_tensor(got.cpu(), torch.tensor(ref), dtype=torch.float64, rtol=1e-9, atol=1e-12,
                     name=f"per-class {what} ({label})")


check_source_forbids(precision_recall_f1, ["precision_recall_fscore_support", "f1_score", "precision_score",
                                           "recall_score", "torchmetrics"])
check_prf(torch.tensor([0, 0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 1, 1, 2, 0, 1]), 3, "7 examples, 3 classes")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(13)
y_true = torch.randint(0, 4, (250,), generator=g)
check_prf(y_true, torch.where(torch.rand(250, generator=g) < 0.5, y_true, torch.randint(0, 4, (250,), generator=g)),
          4, "250 examples, 4 classes")
check_prf(torch.tensor([0, 0, 0, 1, 1, 2]), torch.tensor([0, 0, 0, 0, 0, 0]), 3, "classes 1 and 2 never predicted")
check_prf(torch.tensor([0] * 90 + [1] * 10), torch.tensor([0] * 85 + [1] * 5 + [1] * 3 + [0] * 7), 2,
          "imbalanced binary problem")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_regression_metrics", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def check_regression(pred, target, label):
    for fn, ref in ((mae, skm.mean_absolute_error), (rmse, skm.root_mean_squared_error)):
        got = fn(pred.to(DEVICE), target.to(DEVICE))
        check_close(got, ref(target.numpy(), pred.numpy()), rtol=1e-9, name=f"{fn.__name__} ({label})")


check_source_forbids(mae, ["mean_absolute_error", "l1_loss"])
check_source_forbids(rmse, ["mean_squared_error", "root_mean_squared_error", "mse_loss"])
check_regression(torch.tensor([2.5, 0.0, 2.0, 8.0], dtype=torch.float64),
                 torch.tensor([3.0, -0.5, 2.0, 7.0], dtype=torch.float64), "4 values")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(14)
for n in (1, 9, 500):
    check_regression(torch.randn(n, generator=g, dtype=torch.float64) * 4 + 1,
                     torch.randn(n, generator=g, dtype=torch.float64), f"{n} random values")
check_regression(torch.tensor([0.0, 0.0, 0.0, 10.0], dtype=torch.float64), torch.zeros(4, dtype=torch.float64),
                 "one large error: MAE 2.5, RMSE 5")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "bootstrap_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 8 — a bootstrap confidence interval for an accuracy (2 points)
#
# An accuracy of 0.92 on 200 test examples is an *estimate*: another 200 examples would give
# another number. A **95 % confidence interval** is a range computed from the data by a procedure
# that covers the true accuracy in 95 % of repeated experiments.
#
# The **bootstrap** (Efron, 1979) estimates how the statistic varies by resampling the data we
# have: draw $n$ examples **with replacement** from the $n$ test results (some appear twice,
# about 37 % not at all), recompute the statistic, and repeat $B$ times. The spread of the $B$
# values approximates the sampling distribution. The **percentile interval** at level
# $1-\alpha$ takes its $\alpha/2$ and $1-\alpha/2$ quantiles (2.5 % and 97.5 % for 95 %), one
# tail of $\alpha/2$ on each side.
#
# Write `bootstrap_ci(values, n_boot, alpha, generator)`: `values` is a 1-D float64 tensor (for
# an accuracy, 1.0 where a prediction was correct and 0.0 where not); resample it `n_boot` times
# with replacement using `generator` (`torch.randint(0, n, (n_boot, n), generator=generator)`
# draws all indices at once), take the mean of each resample, and return the pair of floats
# `(low, high)`, the $\alpha/2$ and $1-\alpha/2$ quantiles of those means (`torch.quantile`
# is fine). The tests compare with the exact bootstrap distribution: for 0/1 values with mean
# $\hat p$, a resample's mean is $\text{Binomial}(n, \hat p)/n$.

# %% nbgrader={"grade": false, "grade_id": "bootstrap_ci", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bootstrap_ci(values, n_boot, alpha, generator):
    ### BEGIN SOLUTION
    n = len(values)
    idx = torch.randint(0, n, (n_boot, n), generator=generator)
    means = values.cpu()[idx].mean(dim=1)
    q = torch.tensor([alpha / 2, 1 - alpha / 2], dtype=means.dtype)
    low, high = torch.quantile(means, q)
    return low.item(), high.item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bootstrap_ci", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_bootstrap(n, correct, n_boot, alpha, seed, label):
    values = torch.zeros(n, dtype=torch.float64)
    values[torch.randperm(n, generator=make_generator(seed))[:correct]] = 1.0
    result = bootstrap_ci(values, n_boot, alpha, make_generator(seed))
    assert isinstance(result, tuple) and len(result) == 2, "bootstrap_ci should return (low, high)"
    low, high = (float(v) for v in result)
    again = bootstrap_ci(values, n_boot, alpha, make_generator(seed))
    assert (low, high) == tuple(float(v) for v in again), (
        f"{label}: two calls with generators seeded alike gave {result} and {again}: draw with `generator`")
    p = correct / n
    exact_low = stats.binom.ppf(alpha / 2, n, p) / n
    exact_high = stats.binom.ppf(1 - alpha / 2, n, p) / n
    tol = 2.5 / n  # Monte Carlo error of the quantiles with n_boot resamples: about a step of 1/n
    assert abs(low - exact_low) <= tol and abs(high - exact_high) <= tol, (
        f"{label}: got the interval ({low:.4f}, {high:.4f}) for accuracy {p:.3f}; the exact bootstrap percentile "
        f"interval at level {1 - alpha:.0%} is ({exact_low:.4f}, {exact_high:.4f}).\n"
        "Hint: resample n values WITH replacement, average each resample, take the alpha/2 and 1 - alpha/2 quantiles.")


check_source_forbids(bootstrap_ci, ["bootstrap", "resample"])
check_bootstrap(200, 160, 4000, 0.05, 0, "200 predictions, 160 correct, 95 %")
### BEGIN HIDDEN TESTS
check_bootstrap(1000, 850, 4000, 0.2, 1, "1000 predictions, 850 correct, 80 %")
check_bootstrap(500, 300, 4000, 0.1, 2, "500 predictions, 300 correct, 90 %")
check_bootstrap(400, 380, 4000, 0.05, 3, "400 predictions, 380 correct, 95 %")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ttest_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 9 — is model A really better? A paired $t$-test (2 points)
#
# Two models scored on the same 10 cross-validation folds: A wins on average by 1.5 points.
# Real, or luck of the folds? A **hypothesis test** answers a narrower question: *if there were
# no difference* (the **null hypothesis** $H_0$), how surprising would data like ours be? The
# **p-value** is the probability, under $H_0$, of a test statistic at least as extreme as the one
# observed; a small p-value (conventionally $< 0.05$) is evidence against $H_0$ — it is **not**
# the probability that $H_0$ is true.
#
# Both models were evaluated on the **same** folds, so their scores are **paired**: a hard fold
# is hard for both. The paired test works on the differences $d_i = a_i - b_i$, which cancels
# the fold-to-fold variation shared by both models:
#
# $$\bar d = \frac1n\sum_i d_i,\qquad s_d = \sqrt{\frac{1}{n-1}\sum_i (d_i - \bar d)^2},\qquad
# t = \frac{\bar d}{s_d/\sqrt n} .$$
#
# Under $H_0$ (mean difference 0, differences roughly normal) $t$ follows Student's $t$
# distribution with $n-1$ degrees of freedom, and the two-sided p-value is
# $p = 2\,P(T_{n-1} \ge |t|)$ — in SciPy `2 * stats.t.sf(abs(t), df)` (`sf` is $1-$CDF).
# An *unpaired* (two-sample) test would compare the two means against the much larger
# fold-to-fold spread and miss a consistent small difference. (Cross-validation folds share
# training data, so their scores are not quite independent and this p-value is somewhat
# optimistic; corrections exist, e.g. Nadeau & Bengio's.)
#
# Write `paired_t_test(a, b)` for two 1-D float64 tensors of equal length $n \ge 2$, returning the
# floats `(t, p)`. SciPy's distribution functions (`stats.t`) are fine; its tests
# (`ttest_rel`, `ttest_ind`, ...) are not.

# %% nbgrader={"grade": false, "grade_id": "paired_t_test", "locked": false, "schema_version": 3, "solution": true, "task": false}
def paired_t_test(a, b):
    ### BEGIN SOLUTION
    d = (a - b).double()
    n = len(d)
    t = (d.mean() / (d.std(correction=1) / math.sqrt(n))).item()
    p = 2 * stats.t.sf(abs(t), n - 1)
    return t, float(p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_paired_t_test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_ttest(a, b, label):
    result = paired_t_test(a, b)
    assert isinstance(result, tuple) and len(result) == 2, "paired_t_test should return (t, p)"
    ref = stats.ttest_rel(a.numpy(), b.numpy())
    check_close(result[0], ref.statistic, rtol=1e-9, name=f"t statistic ({label})")
    check_close(result[1], ref.pvalue, rtol=1e-7, atol=1e-15, name=f"two-sided p-value ({label})")


def paired_scores(n, shift, seed):
    g = torch.Generator().manual_seed(seed)
    fold = 0.8 + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)  # shared difficulty of each fold
    return (fold + shift + 0.01 * torch.randn(n, generator=g, dtype=torch.float64),
            fold + 0.01 * torch.randn(n, generator=g, dtype=torch.float64))


check_source_forbids(paired_t_test, ["ttest_rel", "ttest_ind", "ttest_1samp", "wilcoxon", "TTest"])
check_ttest(*paired_scores(10, 0.015, 0), "10 folds, A better by 0.015")
### BEGIN HIDDEN TESTS
check_ttest(*paired_scores(5, 0.0, 1), "5 folds, no real difference")
check_ttest(*paired_scores(30, -0.004, 2), "30 folds, B slightly better")
check_ttest(torch.tensor([0.9, 0.7, 0.8], dtype=torch.float64), torch.tensor([0.85, 0.72, 0.7], dtype=torch.float64),
            "3 folds")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "compare_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Putting it together
#
# The nearest-centroid classifier on the breast-cancer data, raw versus standardised features,
# compared on the same 10 folds (with the scaler fitted inside each training fold, never on the
# validation fold), followed by a bootstrap interval for one held-out accuracy. Try other
# models — `sklearn.linear_model.LogisticRegression` wrapped to take tensors — or other datasets.

# %% nbgrader={"grade": false, "grade_id": "compare", "locked": true, "schema_version": 3, "solution": false, "task": false}
class ScaledNearestCentroid:
    def fit(self, X, y):
        self.scaler = Standardizer().fit(X)
        self.model = NearestCentroid().fit(self.scaler.transform(X), y)
        return self

    def predict(self, X):
        return self.model.predict(self.scaler.transform(X))


try:
    folds = kfold_indices(len(X_cancer), 10, make_generator(0))
    raw = cross_validate(NearestCentroid, X_cancer, y_cancer, folds)
    scaled = cross_validate(ScaledNearestCentroid, X_cancer, y_cancer, folds)
    print(f"raw features:    accuracy {raw.mean():.3f} ± {raw.std():.3f} over 10 folds")
    print(f"standardised:    accuracy {scaled.mean():.3f} ± {scaled.std():.3f}")
    t, p = paired_t_test(scaled, raw)
    print(f"paired t-test:   t = {t:.2f}, p = {p:.2g}")
    model = ScaledNearestCentroid().fit(X_tr, y_tr)
    correct = (model.predict(X_te) == y_te).double()
    low, high = bootstrap_ci(correct, 2000, 0.05, make_generator(0))
    print(f"held-out accuracy {correct.mean():.3f}, 95 % bootstrap interval ({low:.3f}, {high:.3f})")
except NotImplementedError:
    print("some of the functions above are not implemented yet")
