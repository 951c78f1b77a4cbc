// Command footprint-program is the Pulumi program as `pulumi up` runs it;
// the footprint CLI (cmd/footprint) runs the very same program inline.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/infra"
)

func main() {
	pulumi.Run(infra.Program)
}
