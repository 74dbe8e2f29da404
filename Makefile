# bucketguard: `make test` is what CI runs (.ci/run). It installs what it
# needs from scratch: Go modules now; later the CDK CLI and the emulator.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
FUZZTIME ?= 30s

.PHONY: all test vet unit build fuzz bench clean

all: test build

## test: go vet, gofmt and every test
test: vet unit

vet:
	$(GO) mod download
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

## build: one bootstrap per Lambda under dist/<function>/, and dist/<function>.zip
build: $(FUNCTIONS:%=dist/%.zip)

dist/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

dist/%.zip: dist/%/bootstrap
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED); z.write(sys.argv[2], "bootstrap"); z.close()' $@ $<
	@ls -l $< $@

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./events -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./remediations/policy -run '^$$' -fuzz '^FuzzPolicy$$' -fuzztime $(FUZZTIME)

## bench: the benchmarks, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf dist cdk.out

FORCE:

# Keep the bootstrap next to its zip: CDK deploys the directory.
.PRECIOUS: dist/%/bootstrap
