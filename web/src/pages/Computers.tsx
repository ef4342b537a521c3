export default function Computers() { return <h1>Computers</h1>; }
