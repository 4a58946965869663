"""The editor's search page in a real browser shows the match head's score beside sim1 and sim2."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _scores(page, column: str) -> list[str]:
    return page.locator(f"[data-testid=ranking-{column}] li[data-media] .scores").all_inner_texts()


def test_the_search_page_shows_the_heads_score_once_it_reranks(page, sg):
    from sensegraph.matcher import HeadConfig, train_matcher

    page.goto("/editor/search?q=a cup of coffee")
    assert _scores(page, "aware") and not any("head" in s for s in _scores(page, "aware"))  # formula only
    train_matcher(sg, HeadConfig(epochs=5))
    sg.config.search.rerank = True
    sg.reset_part("engine")
    page.goto("/editor/search?q=a cup of coffee")
    aware = _scores(page, "aware")
    assert aware and all(s.index("match") < s.index("head") < s.index("sim1") < s.index("sim2") for s in aware)
    heads = [float(s.split("head")[1].split("·")[0]) for s in aware]
    assert heads == sorted(heads, reverse=True) and all(0 <= h <= 1 for h in heads)
