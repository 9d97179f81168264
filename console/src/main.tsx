import { render } from 'preact';

render(<p>eventlog-archive console</p>, document.getElementById('app')!);
