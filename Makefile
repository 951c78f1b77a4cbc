# footprint: the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
STACK ?= local
BIN := build/footprint
TOOLS_DIR ?= $(or $(FOOTPRINT_TOOLS_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/footprint/tools)
ACTIONLINT := $(TOOLS_DIR)/bin/actionlint
TEST_IMAGE := build/images/test-bookworm.qcow2
TEST_IMAGE_DOCKER := build/images/test-bookworm-docker.qcow2
GOFILES := $(shell git ls-files '*.go' 2>/dev/null)
SHELLSCRIPTS := scripts/tools.sh scripts/libvirt-netns.sh scripts/kube-artifacts.sh testimage/build.sh $(wildcard testimage/*/*.sh) testimage/standin-mysql/footprint-mysqld guest/agent.sh guest/testdata/stub.sh .ci/run

.PHONY: run test bench tools test-inputs test-image test-artifacts build lint unit e2e e2e-kubeadm destroy clean

## run: the default experiment (stack `local`: KVM, Ubuntu Minimal from the internet)
run: tools build
	$(BIN) run --stack $(STACK)

## test: everything CI runs: lint, unit tests, and the real-VM end-to-end tests
test: tools test-inputs lint unit e2e

# The test images (mostly apt and disk) and the Kubernetes artifacts (mostly
# compilation) build side by side: on a cold machine that saves minutes.
test-inputs: tools
	$(MAKE) -j2 --output-sync=target test-image test-artifacts

## bench: footprint's own cost and repeatability, measured on the test image (prints a table; BENCH=hosts: the two-host rows only; BENCH=instrument: the agent's cost only)
bench: tools test-image
	BENCH=$(BENCH) $(GO) run ./bench

## tools: installs only what is missing (apt packages, Pulumi CLI, libvirt plugin)
tools:
	bash scripts/tools.sh

## test-image: the offline Debian cloud-init images the tests boot (cached by recipe)
test-image:
	bash testimage/build.sh --out $(TEST_IMAGE)
	bash testimage/build.sh --variant docker --out $(TEST_IMAGE_DOCKER)

## test-artifacts: the kubeadm profile's offline artifacts, built from Go modules (cached by recipe)
test-artifacts:
	bash scripts/kube-artifacts.sh --out build/artifacts/kubeadm

build:
	$(GO) build -o $(BIN) ./cmd/footprint

lint:
	@bad=$$(gofmt -l $(GOFILES)); if [ -n "$$bad" ]; then echo "gofmt would change: $$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	shellcheck $(SHELLSCRIPTS)
	$(ACTIONLINT) .github/workflows/*.yml

unit:
	$(GO) test -count=1 ./...

# make e2e runs every real-VM test, the functional Kubernetes one included
# (kubeadm-slowvm: 2 vCPUs and the slow-machine options). The measurement of
# kubeadm with its defaults at 1 vCPU x {1, 2} GiB is `make e2e-kubeadm`:
# under software emulation 8.5 minutes when init stops at its default
# timeouts, up to an hour when it gets through (docs/kubernetes-on-one-vcpu.md).
KUBEADM_E2E := TestKubeadmOfflineOnRealVMs

e2e:
	mkdir -p build
	$(GO) test -count=1 -tags e2e -timeout 85m -v -skip '^$(KUBEADM_E2E)$$' ./e2e/... 2>&1 | tee build/e2e.log; exit $${PIPESTATUS[0]}

## e2e-kubeadm: the measurement: kubeadm's defaults, offline, on real 1 vCPU x {1, 2} GiB VMs, 8.5-60 minutes under emulation (needs make test-inputs)
e2e-kubeadm:
	mkdir -p build
	$(GO) test -count=1 -tags e2e -timeout 85m -v -run '^$(KUBEADM_E2E)$$' ./e2e/... 2>&1 | tee build/e2e-kubeadm.log; exit $${PIPESTATUS[0]}

## destroy: removes what `footprint run --keep` left of a stack
destroy: build
	$(BIN) destroy --stack $(STACK)

clean:
	rm -rf build
