export { serverSnapshotExample } from "@panel/protocol";
