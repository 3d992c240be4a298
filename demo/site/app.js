// Pings /healthz and shows the status and round-trip time.
const button = document.getElementById('ping');
const result = document.getElementById('ping-result');

button?.addEventListener('click', async () => {
  const started = performance.now();
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    const body = (await response.text()).trim();
    const ms = (performance.now() - started).toFixed(1);
    result.textContent = `${response.status} ${body} in ${ms} ms`;
  } catch (error) {
    result.textContent = `failed: ${error.message}`;
  }
});
