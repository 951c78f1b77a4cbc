// Builds the kubeadm profile's container images offline, as image archives
// that `ctr images import` loads: the control-plane components and etcd from
// the binaries tools/kubernetes builds, a pause image, and a MySQL stand-in
// for tests. A module of its own so that the project's go.mod stays clean;
// see scripts/kube-artifacts.sh.
module github.com/footprint-dev/footprint/tools/kube-images

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
