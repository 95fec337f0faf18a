#!/usr/bin/env node
'use strict';
const { main } = require('./load-main.js');

main('vmgctl', process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
