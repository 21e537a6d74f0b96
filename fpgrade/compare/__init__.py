"""Comparing trained models as a paper does (``fpgrade compare``, issue 22).

- :mod:`~fpgrade.compare.loading`: the out-of-fold predictions of runs (``predictions.csv``),
  checked to be comparable (same scale, same folds, same samples);
- :mod:`~fpgrade.compare.statistics`: metrics over weighted samples, subject-clustered bootstrap
  intervals, McNemar's test and paired subject-level permutation tests;
- :mod:`~fpgrade.compare.analysis`: the comparison of a set of runs (what every table shows);
- :mod:`~fpgrade.compare.tables`: Markdown, CSV and LaTeX (booktabs) tables;
- :mod:`~fpgrade.compare.report`: one self-contained HTML report with confusion matrices and
  reliability diagrams;
- :mod:`~fpgrade.compare.training`: the ``--models`` form, training every model on one split.
"""
