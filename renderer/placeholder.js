// Placeholder page until the React renderer lands: shows where the embedded server listens.
window.appApi.getServerInfo().then((info) => {
  const ul = document.getElementById('info');
  ul.innerHTML = '';
  for (const [label, value] of [['DICOMweb root', info.dicomWebUrl], ['REST root', info.url], ['Storage', info.storageDirectory]]) {
    const li = document.createElement('li');
    li.textContent = `${label}: `;
    const code = document.createElement('code');
    code.textContent = value;
    li.appendChild(code);
    ul.appendChild(li);
  }
});
