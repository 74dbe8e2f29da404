# bucketguard: `make test` is what CI runs (.ci/run). It installs what it
# needs from scratch: Go modules, the CDK CLI (npm) and the emulator (.venv).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
# The Lambda functions, one folder each under functions/.
FUNCTIONS := remediate sweep coverage
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
FUZZTIME ?= 30s
SCALE ?= 1000
# Packages with tests tagged integration (they also run their unit tests).
# They share one emulator, which each test resets: -p 1 runs them in turn.
INTEGRATION_PKGS := ./remediations/handler/ ./remediations/sweep/ ./cmd/demo/ ./cmd/bucketguard/ ./functions/remediate/
CDK := infra/.cdk-cli/node_modules/.bin/cdk
VENV := .venv
# The CDK runs its jsii kernel on Node; synth needs no AWS account or network.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: all test vet unit integration demo scale build cli synth synth-org deploy cfn-lint tools fuzz bench microbench cost clean

all: test build

## test: go vet, gofmt, every test, the integration and fault tests on the
## emulator, and cfn-lint on the synthesized templates
test: vet unit integration cfn-lint

## vet: go vet (with and without the integration tag), gofmt on the tracked
## files, go.mod tidy, and the import directions (.ci/layers)
vet:
	$(GO) mod download
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	@out="$$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	.ci/layers

unit:
	$(GO) test -race -count=1 ./...

## integration: the tests tagged integration, against moto server on loopback
## (the remediate function under the Lambda Runtime Interface Emulator reads
## its environment from the synthesized template)
integration: $(VENV)/.installed synth
	.ci/emulator $(GO) test -tags integration -count=1 -p 1 $(INTEGRATION_PKGS)

## scale: the sweep and bucketguard scan on SCALE (1,000) buckets in the emulator
scale: $(VENV)/.installed
	.ci/emulator $(GO) test -tags integration -count=1 -timeout 60m -run 'TestSweepScale' -v ./remediations/sweep/ -scale=$(SCALE) 2>&1 | grep -E 'emulator_test|^(ok|FAIL|---)'

## demo: bucketguard on moto server, six buckets in incident states
demo: $(VENV)/.installed
	.ci/emulator $(GO) run ./cmd/demo

## build: one bootstrap per Lambda under dist/<function>/, and dist/<function>.zip
build: $(FUNCTIONS:%=dist/%.zip)

## cli: the operator CLI for this machine, dist/bucketguard
cli:
	$(GO) build -trimpath -o dist/bucketguard ./cmd/bucketguard
	@ls -l dist/bucketguard

dist/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

dist/%.zip: dist/%/bootstrap
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED); z.write(sys.argv[2], "bootstrap"); z.close()' $@ $<
	@ls -l $< $@

## tools: the pinned CDK CLI (npm) and Python tools (.venv), from scratch
tools: $(CDK) $(VENV)/.installed

$(CDK): infra/.cdk-cli/package.json infra/.cdk-cli/package-lock.json
	cd infra/.cdk-cli && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV)/.installed: .ci/requirements.txt .ci/constraints.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r .ci/requirements.txt -c .ci/constraints.txt
	@touch $@

## synth: the Lambda bundles, then every region's template into cdk.out/
synth: build $(CDK)
	AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet

## synth-org: as synth, plus the organization's templates: the member
## template a StackSet deploys (BucketGuard-Member), the admin stack
## (BucketGuard-Org) and each region's asset bucket (docs/organization.md)
synth-org: build $(CDK)
	AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet -c org=true

## deploy: cdk deploy of every stack (needs AWS credentials and a bootstrapped account)
deploy: build $(CDK)
	$(CDK) deploy --all $(CDK_ARGS)

## cfn-lint: lint every synthesized template, the organization's too. Errors
## fail (exit bit 2); warnings (bit 4) and notes (bit 8) are printed and
## reviewed in the note.
cfn-lint: synth-org $(VENV)/.installed
	@rc=0; $(VENV)/bin/cfn-lint cdk.out/*.template.json || rc=$$?; \
	if [ $$((rc & 3)) -ne 0 ]; then echo "cfn-lint: errors (exit $$rc)"; exit $$rc; fi; \
	echo "cfn-lint: no errors (exit $$rc)"

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./events -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./remediations/policy -run '^$$' -fuzz '^FuzzPolicy$$' -fuzztime $(FUZZTIME)
	$(GO) test ./remediations/policy -run '^$$' -fuzz '^FuzzDeniesTo$$' -fuzztime $(FUZZTIME)
	$(GO) test ./remediations/acl -run '^$$' -fuzz '^FuzzACL$$' -fuzztime $(FUZZTIME)

## bench: one table, measured in one run (docs/bench.md): requests and
## sequential rounds per event (moto behind a delay proxy), init time and
## peak RSS under the Lambda Runtime Interface Emulator, the sweep at 20 ms a
## call, connections of a warm sweep, bundle sizes
bench: $(VENV)/.installed synth
	.ci/emulator $(GO) run ./cmd/bench

## cost: the bill of materials of every synthesized stack (docs/cost.md)
cost: synth
	$(GO) run ./cmd/cost cdk.out/*.template.json

## microbench: the Go benchmarks, with allocations
microbench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf dist cdk.out $(VENV) infra/.cdk-cli/node_modules

FORCE:

# Keep the bootstrap next to its zip: CDK deploys the directory.
.PRECIOUS: dist/%/bootstrap
