#!/usr/bin/env node
// The deepr command line: train, eval, inspect, info (the commands are in lib/cli/).
import { main, reportFailure } from "./cli/main.js";

main(process.argv.slice(2)).catch(reportFailure);
