"""A bare noun's context part is scaled by 0 (the prior decides alone), so its sense texts are never embedded."""
from __future__ import annotations

from sensegraph.linking.linker import EntityLinker


def test_a_bare_noun_embeds_nothing_and_links_as_before(toy_store, minilm):
    seen: list[str] = []

    def recording(texts):
        seen.extend(texts)
        return minilm.embed_texts(texts)

    linker = EntityLinker(toy_store, recording, {"w_coherence": 0.0})
    [bare] = linker.link("The Sharks.")
    assert seen == []  # neither the window nor any sense text went through the model
    reference = EntityLinker(toy_store, None, {"w_coherence": 0.0, "w_context": 0.0}).link("The Sharks.")[0]
    assert (bare.sense_id, round(bare.confidence, 6)) == (reference.sense_id, round(reference.confidence, 6))
    assert all(c.parts["context"] == 0.0 for c in bare.candidates)
    [ctx] = linker.link("The Sharks swam near the coral reef")  # with context words the model is asked
    assert seen and ctx.sense_id == "animal:shark"
