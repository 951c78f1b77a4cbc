// Command pulumi-resource-libvirt is the Pulumi resource plugin for libvirt.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"github.com/footprint-dev/footprint/tools/pulumi-resource-libvirt/provider"
)

// schema.json is generated offline by ../pulumi-tfgen-libvirt (see tools/README.md).
//
//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main(provider.Name, provider.Version, provider.Info(), schema)
}
