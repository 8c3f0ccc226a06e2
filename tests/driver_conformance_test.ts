/** Runs the driver conformance suite for every adapter in the matrix, skipping unavailable ones. */

import { driverConformance } from "../testing/driver_conformance.ts";
import { driverMatrix } from "./_drivers.ts";

for (const entry of driverMatrix()) {
  driverConformance({
    name: entry.id,
    open: entry.open,
    skip: entry.skip,
    knownLimitations: entry.knownLimitations,
    supportsFunctions: entry.supportsFunctions,
  });
}
