"""Planted wrong solutions for 10_ml_basics: each must lose points when autograded.

Each mutant is the reference solution cell with one realistic mistake edited in, so the
mutants follow the reference when it changes; an edit that no longer applies fails loudly.
"""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

from coursekit import mistake_planter

_mutant = mistake_planter("10_ml_basics")


_PAIRED_AS_UNPAIRED = '''def paired_t_test(a, b):
    n = len(a)
    pooled = ((n - 1) * a.var() + (n - 1) * b.var()) / (2 * n - 2)
    t = ((a.mean() - b.mean()) / (pooled * 2 / n).sqrt()).item()
    p = 2 * stats.t.sf(abs(t), 2 * n - 2)
    return t, float(p)
'''

MUTANTS = [
    # k-means++ initialisation
    _mutant("pp_uniform_among_unchosen", "kmeans_pp_init",
            ("torch.multinomial(d2, 1,", "torch.multinomial((d2 > 0).double(), 1,")),
    _mutant("pp_distance_not_squared", "kmeans_pp_init",
            ("torch.multinomial(d2, 1,", "torch.multinomial(d2.sqrt(), 1,")),
    _mutant("pp_first_always_row_0", "kmeans_pp_init",
            ("chosen = [int(torch.randint(n, (1,), generator=generator))]", "chosen = [0]")),
    _mutant("pp_distance_to_last_centroid_only", "kmeans_pp_init",
            ("d2 = torch.minimum(d2, ((X - X[i]) ** 2).sum(dim=1))", "d2 = ((X - X[i]) ** 2).sum(dim=1)")),
    _mutant("pp_farthest_point", "kmeans_pp_init",
            ("int(torch.multinomial(d2, 1, generator=generator))", "int(d2.argmax())")),
    _mutant("pp_global_rng", "kmeans_pp_init",
            ("torch.randint(n, (1,), generator=generator)", "torch.randint(n, (1,))"),
            ("torch.multinomial(d2, 1, generator=generator)", "torch.multinomial(d2, 1)")),
    # Lloyd's algorithm
    _mutant("kmeans_centroids_not_recomputed", "kmeans",
            ("            if len(members) > 0:\n                centroids[j] = members.mean(dim=0)\n",
             "            pass\n")),
    _mutant("kmeans_stops_after_one_update", "kmeans",
            ("if labels is not None and torch.equal(new_labels, labels):", "if labels is not None:")),
    _mutant("kmeans_inertia_of_distances", "kmeans",
            ("inertia = ((X - centroids[labels]) ** 2).sum()", "inertia = ((X - centroids[labels]) ** 2).sum(dim=1).sqrt().sum()")),
    _mutant("kmeans_inertia_mean", "kmeans",
            ("inertia = ((X - centroids[labels]) ** 2).sum()", "inertia = ((X - centroids[labels]) ** 2).sum(dim=1).mean()")),
    _mutant("kmeans_empty_cluster_nan", "kmeans",
            ("            if len(members) > 0:\n                centroids[j] = members.mean(dim=0)\n",
             "            centroids[j] = members.mean(dim=0)\n")),
    _mutant("kmeans_modifies_init", "kmeans", ("centroids = init.clone()", "centroids = init")),
    # PCA
    _mutant("pca_not_centred", "pca", ("Xc = X - X.mean(dim=0)", "Xc = X")),
    _mutant("pca_u_instead_of_v", "pca", ("components = Vh[:n_components]", "components = U[:, :n_components].T")),
    _mutant("pca_ratio_of_kept_components", "pca",
            ("ratio = variance / variance.sum()", "ratio = variance[:n_components] / variance[:n_components].sum()"),
            ("ratio[:n_components]", "ratio")),
    _mutant("pca_variance_ddof_0", "pca", ("variance = S**2 / (X.shape[0] - 1)", "variance = S**2 / X.shape[0]")),
    _mutant("pca_singular_values_not_squared", "pca", ("variance = S**2 / (X.shape[0] - 1)", "variance = S / (X.shape[0] - 1)")),
    _mutant("pca_projects_uncentred_data", "pca", ("return Xc @ components.T,", "return X @ components.T,")),
    # scalers and the train/test split
    _mutant("std_with_n_minus_1", "scalers", ("std = X.std(dim=0, correction=0)", "std = X.std(dim=0)")),
    _mutant("transform_refits_on_its_input", "scalers",
            ("return (X - self.mean_) / self.scale_", "return (X - X.mean(dim=0)) / X.std(dim=0, correction=0)")),
    _mutant("minmax_divides_by_max", "scalers", ("spread = X.amax(dim=0) - self.min_", "spread = X.amax(dim=0)")),
    _mutant("constant_column_nan", "scalers",
            ("self.scale_ = torch.where(std > 0, std, torch.ones_like(std))", "self.scale_ = std")),
    _mutant("split_fitted_on_all_data", "scalers", ("scaler.fit(X_train)", "scaler.fit(torch.cat([X_train, X_test]))")),
    _mutant("split_test_fitted_separately", "scalers",
            ("    scaler.fit(X_train)\n    return scaler.transform(X_train), scaler.transform(X_test)",
             "    train = scaler.fit(X_train).transform(X_train)\n    return train, scaler.fit(X_test).transform(X_test)")),
    # one-hot encoding
    _mutant("categories_in_order_of_appearance", "one_hot", ("return sorted(set(values))", "return list(dict.fromkeys(values))")),
    _mutant("categories_not_deduplicated", "one_hot", ("return sorted(set(values))", "return sorted(values)")),
    _mutant("unknown_category_crashes", "one_hot",
            ("        if v in column:\n            out[i, column[v]] = 1.0", "        out[i, column[v]] = 1.0")),
    _mutant("unknown_category_in_last_column", "one_hot",
            ("        if v in column:\n            out[i, column[v]] = 1.0", "        out[i, column.get(v, -1)] = 1.0")),
    _mutant("categories_refitted_on_new_values", "one_hot",
            ("    column = {c: j for j, c in enumerate(categories)}", "    categories = sorted(set(values))\n    column = {c: j for j, c in enumerate(categories)}")),
    # k-fold cross-validation
    _mutant("kfold_overlapping_folds", "kfold", ("val = order[start:start + size]", "val = order[start:start + size + 1]")),
    _mutant("kfold_remainder_never_validated", "kfold", ("size = n // k + (1 if i < n % k else 0)", "size = n // k")),
    _mutant("kfold_remainder_in_last_fold", "kfold",
            ("size = n // k + (1 if i < n % k else 0)", "size = n // k + (n % k if i == k - 1 else 0)")),
    _mutant("kfold_train_includes_validation", "kfold",
            ("train = torch.cat([order[:start], order[start + size:]])", "train = order")),
    _mutant("kfold_shuffle_global_rng", "kfold", ("torch.randperm(n, generator=generator)", "torch.randperm(n)")),
    _mutant("cv_one_model_for_all_folds", "kfold",
            ("    scores = []\n    for train_idx, val_idx in folds:\n        model = make_model()\n",
             "    scores = []\n    model = make_model()\n    for train_idx, val_idx in folds:\n")),
    _mutant("cv_scored_on_training_rows", "kfold",
            ("(model.predict(X[val_idx]) == y[val_idx])", "(model.predict(X[train_idx]) == y[train_idx])")),
    # metrics
    _mutant("confusion_transposed", "metrics", ("y_true * C + y_pred", "y_pred * C + y_true")),
    _mutant("precision_recall_swapped", "metrics",
            ("predicted, actual = cm.sum(dim=0), cm.sum(dim=1)", "predicted, actual = cm.sum(dim=1), cm.sum(dim=0)")),
    _mutant("f1_arithmetic_mean", "metrics",
            ("f1 = torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-300), 0.0)", "f1 = total / 2")),
    _mutant("precision_nan_when_never_predicted", "metrics",
            ("precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), 0.0)", "precision = tp / predicted")),
    _mutant("mae_without_abs", "metrics", ("return (pred - target).abs().mean()", "return (pred - target).mean()")),
    _mutant("rmse_without_sqrt", "metrics", ("return ((pred - target) ** 2).mean().sqrt()", "return ((pred - target) ** 2).mean()")),
    # bootstrap confidence interval
    _mutant("bootstrap_quantiles_alpha", "bootstrap_ci", ("[alpha / 2, 1 - alpha / 2]", "[alpha, 1 - alpha]")),
    _mutant("bootstrap_without_replacement", "bootstrap_ci",
            ("idx = torch.randint(0, n, (n_boot, n), generator=generator)",
             "idx = torch.stack([torch.randperm(n, generator=generator) for _ in range(n_boot)])")),
    _mutant("bootstrap_quantiles_of_values", "bootstrap_ci",
            ("low, high = torch.quantile(means, q)", "low, high = torch.quantile(values.cpu(), q)")),
    _mutant("bootstrap_percent_scale", "bootstrap_ci",
            ("[alpha / 2, 1 - alpha / 2]", "[100 * alpha / 2, 100 * (1 - alpha / 2)]")),
    _mutant("bootstrap_global_rng", "bootstrap_ci",
            ("torch.randint(0, n, (n_boot, n), generator=generator)", "torch.randint(0, n, (n_boot, n))")),
    # paired t-test
    {"name": "ttest_unpaired_pooled", "cell": "paired_t_test", "source": _PAIRED_AS_UNPAIRED},
    _mutant("ttest_std_ddof_0", "paired_t_test", ("d.std(correction=1)", "d.std(correction=0)")),
    _mutant("ttest_one_sided_p", "paired_t_test", ("p = 2 * stats.t.sf(abs(t), n - 1)", "p = stats.t.sf(abs(t), n - 1)")),
    _mutant("ttest_df_n", "paired_t_test", ("p = 2 * stats.t.sf(abs(t), n - 1)", "p = 2 * stats.t.sf(abs(t), n)")),
    _mutant("ttest_normal_not_t", "paired_t_test", ("p = 2 * stats.t.sf(abs(t), n - 1)", "p = 2 * stats.norm.sf(abs(t))")),
]
