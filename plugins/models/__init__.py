"""The five papers' networks, one plugin module per paper, each in timm's order: citation and
deviations, modules, model card, registration."""
