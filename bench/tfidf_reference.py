"""TF-IDF references on a recipe's own splits (the numbers on the recipe cards).

    python bench/tfidf_reference.py tweets_confidence     # Ridge regression: MSE, MAE, R^2
    python bench/tfidf_reference.py tweets_sentiment      # LinearSVC: accuracy, macro-F1

The recipe's data stage runs (or comes from the cache) so that train/test are exactly the
records the recipe trains and tests on; word 1-2 grams, sublinear TF. Classifiers are also
scored with character 2-5 grams (within word boundaries) added to the word n-grams.
"""

from __future__ import annotations

import sys


def main(recipe: str) -> dict[str, float]:
    """Fit on the recipe's train split, score on its test split."""
    from scipy.sparse import hstack
    from sklearn import metrics
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.svm import LinearSVC

    from framework.config.compose import compose
    from framework.data.stage import data_tables
    from framework.records import LABEL, TEXT, column
    from framework.registry import default_registry

    registry = default_registry()
    cfg = compose(registry, [f"recipe={recipe}"])
    task = registry.build("task", cfg.task)
    stage = data_tables(cfg.data, task, registry, cfg.seed)
    train, test = stage.splits["train"], stage.splits["test"]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x_train = vec.fit_transform(column(train, TEXT))
    x_test = vec.transform(column(test, TEXT))
    y_train, y_test = column(train, LABEL), column(test, LABEL)
    if task.target == "value":
        pred = Ridge(alpha=3.0).fit(x_train, y_train).predict(x_test)
        return {
            "mse": metrics.mean_squared_error(y_test, pred),
            "mae": metrics.mean_absolute_error(y_test, pred),
            "r2": metrics.r2_score(y_test, pred),
        }
    pred = LinearSVC().fit(x_train, y_train).predict(x_test)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    both_train = hstack([x_train, chars.fit_transform(column(train, TEXT))]).tocsr()
    both_test = hstack([x_test, chars.transform(column(test, TEXT))]).tocsr()
    pred_both = LinearSVC().fit(both_train, y_train).predict(both_test)
    return {
        "accuracy": metrics.accuracy_score(y_test, pred),
        "f1_macro": metrics.f1_score(y_test, pred, average="macro"),
        "accuracy (word + char n-grams)": metrics.accuracy_score(y_test, pred_both),
        "f1_macro (word + char n-grams)": metrics.f1_score(y_test, pred_both, average="macro"),
    }


if __name__ == "__main__":
    for name, value in main(sys.argv[1]).items():
        print(f"{name}: {value:.4f}")
