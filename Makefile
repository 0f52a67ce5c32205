# The two commands of the README: `make demo` and `make test`. Both create or update .venv.
# `make docs`: the documentation site (docs/*.md, mkdocs.yml) built strictly into site/.
# `make ablation`: Table 4's five variants x 3 seeds on the demo (15 trainings: tens of minutes on 2 cores).
# `make realdev`: the papers' tables on the real forgeries of REALDEV by folds of identity, into OUT
# (tables.json, tables.md; benchmarks/realdev.py); `make realdev QUICK=1`: fold 0, 1 epoch, 1 model per table.
# `make transfer`: configs/transfer.toml on REALDEV's FF++ pairs and their blends into OUT/transfer/best.pt, which
# then scores the Celeb-DF v2 and DFD clips (OUT/transfer/transfer.json).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo
# a test-split real of the package-face demo (biden): `make demo` ends by scoring it and its swap
DEMO_REAL := 028
STAMP := $(VENV)/.installed
REALDEV ?= ../shared/data/realdev
OUT ?= realdev
TRANSFER_DEMO ?=

.PHONY: setup demo test docs bench ablation compare realdev transfer clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	$(BIN)/python -m pip install -q 'ray>=2.9' || echo "ray does not install here: its tests will skip"
	$(BIN)/python -m pip install -q --no-deps facenet-pytorch==2.6.0
	touch $(STAMP)

# `make demo` (docs/demo-faces.md): package faces (reals in demo/ffpp-reals), SelfBlend and FaceSwapBlend fakes
# made by lrl-prep blend into demo/ffpp; their shards carry the blend masks (--source official, docs/blend.md).
# The Celeb-DF, DFDC and DFD trees keep the built-in faces (no mask videos: their masks are the paper's diff
# rule, so the cross evaluation needs --force: the mask settings differ, the AUCs do not depend on them).
demo: $(STAMP)
	$(BIN)/lrl-prep demo-data --out $(DEMO)/ffpp --size small
	$(BIN)/lrl-prep index --root $(DEMO)/ffpp
	$(BIN)/lrl-prep refresh --root $(DEMO)/ffpp --work $(DEMO)/work --frames 16 --size 80 --source official
	$(BIN)/lrl-train --config configs/demo.toml --shards $(DEMO)/work/shards --out $(DEMO)/run --overwrite
	$(BIN)/lrl-prep demo-data --dataset celebdf --out $(DEMO)/celebdf --size small
	$(BIN)/lrl-prep demo-data --dataset dfdc --out $(DEMO)/dfdc --size small
	$(BIN)/lrl-prep refresh --root $(DEMO)/celebdf --work $(DEMO)/cross --frames 16 --size 80
	$(BIN)/lrl-prep refresh --root $(DEMO)/dfdc --work $(DEMO)/cross --frames 16 --size 80
	$(BIN)/lrl-prep demo-data --dataset dfd --out $(DEMO)/dfd --size small
	$(BIN)/lrl-prep refresh --root $(DEMO)/dfd --work $(DEMO)/cross --frames 16 --size 80
	$(BIN)/lrl-train --evaluate $(DEMO)/run/best.pt --shards $(DEMO)/work/shards --shards $(DEMO)/cross/shards \
		--split test --force
	$(BIN)/lrl-prep report --work $(DEMO)/work --out $(DEMO)/qa
	$(BIN)/lrl-predict --checkpoint $(DEMO)/run/best.pt --out $(DEMO)/predict --report $(DEMO)/predict/report \
		$(DEMO)/ffpp/original_sequences/youtube/c23/videos/$(DEMO_REAL).mp4 \
		$(DEMO)/ffpp/manipulated_sequences/FaceSwapBlend/c23/videos/$(DEMO_REAL)_*.mp4

ablation: $(STAMP)
	$(BIN)/lrl-prep demo-data --out $(DEMO)/ffpp --size small
	$(BIN)/lrl-prep refresh --root $(DEMO)/ffpp --work $(DEMO)/work --frames 16 --size 80 --source official
	$(BIN)/python benchmarks/ablation.py --shards $(DEMO)/work/shards --out $(DEMO)/ablation

realdev: $(STAMP)
	$(BIN)/python benchmarks/realdev.py --realdev $(REALDEV) --out $(OUT) $(if $(QUICK),--quick)

transfer: $(STAMP)
	$(BIN)/python benchmarks/realdev.py --realdev $(REALDEV) --out $(OUT) --recipe --config configs/transfer.toml $(if $(TRANSFER_DEMO),--demo $(TRANSFER_DEMO))

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -rs tests

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict --site-dir site

# against a baseline checkout (--baseline): run by hand, docs/development.md
AGAINST := benchmarks/train_cpu.py benchmarks/predict_cpu.py

bench: $(STAMP)
	for b in $(filter-out benchmarks/ablation.py benchmarks/mclcr_compare.py $(AGAINST) benchmarks/realdev.py,$(wildcard benchmarks/*.py)); do $(BIN)/python $$b || exit 1; done

# LRL vs MC-LCR and its ablations, 3 seeds, on the demo shards that `make demo` builds (docs/results.md).
compare: $(STAMP)
	$(BIN)/python benchmarks/mclcr_compare.py --shards $(DEMO)/work/shards --out $(DEMO)/compare --pretrained imagenet

clean:
	rm -rf $(DEMO) site .pytest_cache .ruff_cache
