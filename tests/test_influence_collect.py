"""Fine-tuning tasks by construction, BLEU / ROUGE-L by hand, and dynamics collected on the training loop."""

import collections
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import per_example_loss
from mini_lib.core.paths import _host_tag
from mini_lib.core.tokenization import train_tokenizer
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.corpora import storyworld as sw
from mini_lib.papers.gptfluence import collect
from mini_lib.papers.gptfluence.collect import (
    BaseModel,
    CollectConfig,
    PretrainConfig,
    collect_task,
    example_set,
    finetune,
    pretrain_base_model,
    run_batches,
    target_losses,
)
from mini_lib.papers.gptfluence.data import (
    choice_to_pair,
    convert_rows,
    load_real_task,
    make_task,
    rte_like,
    webnlg_like,
)
from mini_lib.papers.gptfluence.generation import bleu, greedy_continuations, rouge_l, text_scores
from mini_lib.papers.gptfluence.gptdynamics import read_task
from mini_lib.papers.gptfluence.tracin import GradientProjection, output_layer_grads
from tests.helpers import single_thread, tiny_model

CONFIG = CollectConfig(n_sampled=8, batch_size=4, epochs=2, lr=3e-3, max_len=96, eval_batch_size=8, max_new_tokens=6,
                       tracin_every=2, grad_k_vocab=4, grad_k_hidden=4, holdout_train=4, holdout_runs=1)


@pytest.fixture(scope="module")
def base():
    texts = sw.generate_stories(300, seed=5)["text"]
    tokenizer = train_tokenizer(texts, 400, model_max_length=128)
    return BaseModel(tiny_model(len(tokenizer), seq_len=128, seed=0), tokenizer, "tiny")


@pytest.fixture(scope="module")
def collected(base, tmp_path_factory):
    with single_thread():
        task = make_task("webnlg", 16, 4)
        folder = tmp_path_factory.mktemp("dynamics") / "webnlg"
        before = {k: v.clone() for k, v in base.model.state_dict().items()}
        result = collect_task(task, base, CONFIG, 3, folder, log=None)
        assert all(torch.equal(v, before[k]) for k, v in base.model.state_dict().items()), "runs must train copies"
        yield result


pytestmark = pytest.mark.usefixtures("one_thread")


# --- tasks -----------------------------------------------------------------------------------------


def _plan(item: ChoiceTask) -> sw.StoryPlan:
    seed, index = (int(x) for x in re.search(r"seed=(-?\d+) index=(\d+)", item.id).groups())
    return sw.story_plan(index, seed)


def test_sst2_and_boolq_reuse_zero_shot_items_with_balanced_true_labels():
    sst2 = make_task("sst2", 12, 8)
    for example in sst2.train + sst2.test:
        item = sst2.choices[example.id]
        assert example.input == item.context and example.output == item.options[item.label]
        assert _plan(item).outcome == ("happy" if item.label == 0 else "sad")  # the feeling fits what happened
        assert len(example.output.split()) == 1  # only the feeling word is the target
    boolq = make_task("boolq", 12, 8)
    for examples in (sst2.train, sst2.test, boolq.train, boolq.test):
        labels = collections.Counter(sst2.choices[e.id].label if e in sst2.train + sst2.test else e.output for e in examples)
        assert len(labels) == 2 and len(set(labels.values())) == 1, labels
    assert {e.output for e in boolq.train} == {" yes", " no"}


def test_rte_like_hypotheses_follow_or_not_by_construction():
    items = rte_like(40, seed=3)
    assert collections.Counter(i.label for i in items) == {0: 20, 1: 20}
    for item in items:
        plan = _plan(item)
        premise, hypothesis = re.match(r"(.*)\nQuestion: (.*) True or False\?\nAnswer:$", item.context, re.S).groups()
        story = sw.realise(plan, "simple")
        assert story.startswith(premise)  # the premise is the story's opening
        key = hypothesis.rstrip(".").split()[-1]
        mentioned = re.search(rf"\b{key}\b", premise) is not None
        assert mentioned == (item.label == 0), (premise, hypothesis, item.label)
        if item.label == 1:
            assert re.search(rf"\b{key}\b", story) is None  # a false value the story never mentions
        assert item.options == (" True", " False")


def test_webnlg_like_triples_are_told_by_the_sentence():
    for prompt, target in webnlg_like(20, seed=1):
        triples = re.match(r"Triples: (.*)\nSentence:$", prompt).group(1).split(" ; ")
        assert len(triples) >= 2
        for triple in triples:
            subject, _, value = triple.split(" | ")
            assert subject in target and re.search(rf"\b{value}\b", target)


def test_flipped_labels_use_the_wrong_option_and_choices_keep_the_truth():
    task = make_task("sst2", 20, 10, flip_fraction=0.4)
    assert len(task.flipped & set(task.train_ids)) == 8 and len(task.flipped & set(task.test_ids)) == 4
    for example in task.train + task.test:
        item = task.choices[example.id]
        wanted = item.options[1 - item.label] if example.id in task.flipped else item.options[item.label]
        assert example.output == wanted
    with pytest.raises(ConfigError, match="classification"):
        make_task("webnlg", 20, 10, flip_fraction=0.4)


def test_choice_to_pair_moves_shared_words_into_the_prompt():
    item = ChoiceTask("Tom ran.", (" He felt so glad.", " He felt so sad."), 1)
    prompt, target, moved = choice_to_pair(item)
    assert (prompt, target) == ("Tom ran. He felt so", " sad.")
    assert moved.options == (" glad.", " sad.") and moved.label == 1
    assert choice_to_pair(ChoiceTask("Q?", (" yes", " no"), 0))[:2] == ("Q?", " yes")


def test_real_task_rows_convert_with_harness_prompts():
    pairs, choices = convert_rows("sst2", [{"sentence": "a gripping film", "label": 1, "idx": 0}])
    assert pairs == [("a gripping film\nQuestion: Is this sentence positive or negative?\nAnswer:", " positive")]
    assert choices[0].options == (" negative", " positive")
    pairs, _ = convert_rows("rte", [{"sentence1": "A man sleeps.", "sentence2": "A man runs.", "label": 1, "idx": 3}])
    assert pairs[0] == ("A man sleeps.\nQuestion: A man runs. True or False?\nAnswer:", " False")
    pairs, _ = convert_rows("boolq", [{"question": "is the sky blue", "passage": "The sky is blue.", "idx": 0, "label": 1},
                                      {"question": "is grass red?", "passage": "Grass is green.", "answer": False}])
    assert pairs == [("The sky is blue.\nQuestion: is the sky blue?\nAnswer:", " yes"),
                     ("Grass is green.\nQuestion: is grass red?\nAnswer:", " no")]
    gem = {"input": ["Alan_Bean | occupation | Test_pilot", "Alan_Bean | birthPlace | Texas"], "target": "Alan Bean, born in Texas, was a test pilot."}
    challenge = {"modified_triple_sets": {"mtriple_set": [["Aarhus | country | Denmark"]]}, "lex": {"text": ["Aarhus is in Denmark."]}}
    pairs, choices = convert_rows("webnlg", [gem, challenge])
    assert pairs == [("Triples: Alan_Bean | occupation | Test_pilot ; Alan_Bean | birthPlace | Texas\nSentence:", " " + gem["target"]),
                     ("Triples: Aarhus | country | Denmark\nSentence:", " Aarhus is in Denmark.")]
    assert choices == [None, None]
    pairs, _ = convert_rows("wmt16", [{"translation": {"de": "Hallo Welt.", "en": "Hello world."}}])
    assert pairs == [("German: Hallo Welt.\nEnglish:", " Hello world.")]
    with pytest.raises(ConfigError, match="passage"):
        convert_rows("boolq", [{"question": "q", "label": 0}])


def test_offline_real_tasks_fail_fast_naming_the_embedded_alternative():
    with pytest.raises(ConfigError, match="offline.*storyworld"):
        load_real_task("rte", 200, 100)
    with pytest.raises(ConfigError, match="storyworld"):
        make_task("wmt16", 20, 10, source="hub")
    with pytest.raises(ConfigError, match="embedded"):
        make_task("wmt16", 20, 10)
    with pytest.raises(ConfigError, match="even"):
        make_task("rte", 21, 10)


# --- generation metrics ----------------------------------------------------------------------------


def test_bleu_and_rouge_l_by_hand():
    assert bleu("a b c d e", "a b c d e") == pytest.approx(1.0)
    # n-gram precisions 4/5, 3/4, 2/3, 1/2, no brevity penalty
    assert bleu("a b c d e", "a b c d f") == pytest.approx((4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)
    # effective order 2 (both precisions 1), brevity penalty exp(1 - 6/2)
    assert bleu("the cat", "the cat sat on the mat") == pytest.approx(np.exp(-2))
    assert rouge_l("the cat ran", "the cat sat") == pytest.approx(2 / 3)  # LCS 2 of 3 words each side
    assert rouge_l("a b c d", "a x b y") == pytest.approx(0.5)
    assert rouge_l("dog", "cat") == 0.0
    assert text_scores(["a b"], ["a b"]) == {"bleu": [pytest.approx(1.0)], "rougeL": [pytest.approx(1.0)]}


def test_batched_greedy_decoding_matches_one_prompt_at_a_time(base):
    prompts = [[0, 5, 6, 7, 8, 9], [0, 11], [0, 12, 13]]
    batched = greedy_continuations(base.model, prompts, eos_id=0, max_new_tokens=5, batch_size=3)
    single = [greedy_continuations(base.model, [p], eos_id=0, max_new_tokens=5)[0] for p in prompts]
    assert batched == single and all(0 not in out for out in batched)


# --- collection ------------------------------------------------------------------------------------


def test_target_losses_equal_the_training_loss(base):
    task = make_task("rte", 4, 4)  # short premises: no prompt is truncated
    data = example_set(base.tokenizer, task.train, task.kind, 128)
    batch = data.collate(np.arange(4))
    with torch.no_grad():
        full = per_example_loss(base.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, batch["labels"])
    torch.testing.assert_close(target_losses(base.model, batch), full)
    assert all(p[0] == base.tokenizer.eos_token_id for p in data.prompt_ids)  # a document starts
    assert all(t[-1] != base.tokenizer.eos_token_id for t in data.target_ids)  # loss on the label token only


def test_runs_follow_their_sample_and_the_loops_records(collected):
    task, runs = collected.task, collected.runs
    held = set(collected.holdout_train_ids())
    planned = run_batches(task, CONFIG, 3)
    for r, run in enumerate(runs):
        assert run.batches == planned[r] and run.n_steps == CONFIG.steps == 4
        epochs = [run.batches[k:k + 2] for k in range(0, 4, 2)]
        samples = [sorted(i for b in e for i in b) for e in epochs]
        assert samples[0] == samples[1] and len(set(samples[0])) == CONFIG.n_sampled  # one sample, reshuffled
        if r < 2:
            assert not held & set(samples[0])  # regular runs draw from the reduced pool
        records = [json.loads(line) for line in (collected.folder / run.run_id / "train" / "records.jsonl").read_text().splitlines()]
        assert [[d[0] for d in rec["doc_ids"]] for rec in records] == run.batches
        assert run.learning_rates == [rec["lr"] for rec in records]
        assert set(run.trajectories) == {"loss", "bleu", "rougeL"}
        assert run.trajectories["loss"].shape == (len(task.test), 5) and run.first_step == 0
        assert np.all((run.trajectories["bleu"] >= 0) & (run.trajectories["bleu"] <= 1))
        assert not np.allclose(run.trajectories["loss"][:, 0], run.trajectories["loss"][:, -1])  # training moved it
    assert len(collected.full_pool_runs()) == 1 and len(collected.regular_runs()) == 2


def test_step0_is_the_base_model_and_gradients_are_recorded(collected, base):
    task = collected.task
    test = example_set(base.tokenizer, task.test, task.kind, CONFIG.max_len)
    batch = test.collate(np.arange(len(test)))
    with torch.no_grad():
        expected = per_example_loss(base.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, batch["labels"])
    for run in collected.runs:
        np.testing.assert_allclose(run.trajectories["loss"][:, 0], expected.numpy(), rtol=1e-5)
    grads = collected.gradients("run_1")
    assert grads.steps == [0, 2] and grads.train.shape == (2, 16, 16) and grads.test.shape == (2, 4, 16)
    projection = GradientProjection.create(*base.model.get_output_embeddings().weight.shape, 4, 4, seed=CONFIG.seed)
    direct = output_layer_grads(base.model, batch["input_ids"], batch["labels"] != -100, attention_mask=batch["attention_mask"],
                                projection=projection)
    np.testing.assert_allclose(grads.test[0], direct.numpy(), rtol=1e-4, atol=1e-7)
    assert collected.timing["grad_seconds"].gt(0).all() and collected.step0_grad_seconds > 0


def test_collected_folder_reads_back_with_read_task(collected):
    dynamics = read_task(collected.folder)
    assert [r.run_id for r in dynamics.runs] == ["run_0", "run_1", "run_2"]
    assert dynamics.train_ids == list(range(16)) and dynamics.test_ids == [16, 17, 18, 19]
    assert dynamics.test_examples[0].output == collected.task.test[0].output
    np.testing.assert_array_equal(dynamics.runs[2].trajectories["rougeL"], collected.runs[2].trajectories["rougeL"])


def test_collection_resumes_and_refuses_other_settings(collected, base):
    logged = []
    folder = collected.folder
    again = collect_task(collected.task, base, CONFIG, 3, folder, log=logged.append)
    assert logged == []  # every run complete: nothing retrained
    # a build killed half-way leaves only its hidden staging folder (named by its process), never a run under
    # its final name
    (folder / "run_1" / "done.json").unlink()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = folder / f".run_1.tmp-{_host_tag()}-{int(dead.stdout)}-x1"
    shutil.move(folder / "run_1", leftover)
    redone = collect_task(collected.task, base, CONFIG, 3, folder, log=logged.append)
    assert len(logged) == 1 and "run 2/3" in logged[0]
    assert not leftover.exists()  # a dead process's leftover is cleared by the rebuild
    np.testing.assert_allclose(redone.runs[1].trajectories["loss"], again.runs[1].trajectories["loss"])  # deterministic
    with pytest.raises(ConfigError, match="other settings"):
        collect_task(collected.task, base, CollectConfig(n_sampled=8, batch_size=4, epochs=1), 3, folder, log=None)


def test_finetune_trains_through_the_loop_on_the_given_examples(base, tmp_path):
    task = make_task("boolq", 8, 4)
    model = finetune(base, task, [0, 1, 2, 3, 4], CONFIG, tmp_path / "ft")
    records = [json.loads(line) for line in (tmp_path / "ft" / "records.jsonl").read_text().splitlines()]
    assert len(records) == CONFIG.epochs  # 5 examples, batch 4: one full batch per epoch
    assert all(d[0] in range(5) for rec in records for d in rec["doc_ids"])
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), base.model.parameters()))
    with pytest.raises(ConfigError, match="batch_size"):
        finetune(base, task, [0, 1], CONFIG, tmp_path / "few")


def test_the_pretrained_base_model_is_reused_for_its_settings_and_refused_for_others(tmp_path, monkeypatch):
    config = PretrainConfig(n_documents=200, vocab_size=300, seq_len=32, n_layers=1, d_model=16, n_heads=2, steps=2,
                            batch_size=4, precision="fp32")
    first = pretrain_base_model(config, tmp_path)
    monkeypatch.setattr(collect, "train", lambda *a, **k: pytest.fail("a reuse must not train"))
    again = pretrain_base_model(config, tmp_path)
    assert again.path == first.path == tmp_path / "model" and again.pretrain_eval == first.pretrain_eval
    assert all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()))
    with pytest.raises(ConfigError, match=r"settings.steps \(2 -> 3\)"):
        pretrain_base_model(replace(config, steps=3), tmp_path)
