// Placeholder entry until Studio lands; keeps the build honest.
import { render } from 'preact';
render(<p>agentv Studio</p>, document.body);
