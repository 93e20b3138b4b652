// The forked child of bench-register.mjs: answers one message with it, then disconnects.
process.once('message', (message) => process.send(message, () => process.disconnect()));
